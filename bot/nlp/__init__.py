"""Thai understanding: normalize, tokenize (the one PyThaiNLP wrapper), retrieve services, detect intents."""
