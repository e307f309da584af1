"""Problem reports: the chat flow, the rules of their statuses, and the staff pages."""
