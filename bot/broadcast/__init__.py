"""Public hearings: the hearings themselves and residents' RSVPs (hearings.py), the messages that announce
and remind (cards.py), and the persistent fan-out jobs that send them to many residents (fanout.py)."""
