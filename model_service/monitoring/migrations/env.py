"""Alembic environment: runs on the connection :func:`model_service.monitoring.store.migrate`
hands over (never from a URL in an ini file)."""

from alembic import context

from model_service.monitoring.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
