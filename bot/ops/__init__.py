"""Operations: backups, structured logs, the metrics page, the rich menu, the audit log, and how to name a command
in a hint."""
