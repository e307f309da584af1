"""Alembic runs migrations on the connection the application hands it (see bot.db.engine.migrate)."""

from alembic import context

from bot.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
