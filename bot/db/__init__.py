"""The database: models, engine and sessions, and migrations applied at start-up."""
