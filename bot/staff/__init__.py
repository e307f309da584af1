"""The staff workspace: signed-in pages under /staff to triage, understand and export what residents sent,
and the exports the command line shares."""
