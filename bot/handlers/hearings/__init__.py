"""Public hearings: the hearings and residents' RSVPs (rules), the messages that announce and remind (cards), the
persistent fan-out jobs that send them (fanout), the chat handlers, the staff pages and the command line."""
