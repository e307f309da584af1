"""The delivery path: LINE's webhook in (webhook, request_body, intake), events handled exactly once in order per
chat (inbox, groupcommit), replies and pushes out (line), residents' photos fetched (photos), and the background
loops that drive them."""
