"""Residents' opinions for the local plan: the chat flow, the rules of their statuses and outcomes, the staff pages
and the plan workbook."""
