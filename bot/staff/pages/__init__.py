"""One module per part of the workspace that is no one feature's; bot/urls.py attaches their handlers to paths."""
