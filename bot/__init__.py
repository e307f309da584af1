"""LINE chatbot for Thai local governments."""
