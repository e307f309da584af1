"""Services and residents' questions: reading a question and answering it (qa, cards, office, referrals), dated
windows and expected dates (windows, timeline), the phrasings staff teach, `ask` on the command line, and the
staff page of unanswered questions."""
