"""What the service keeps: the job table (SQLAlchemy: SQLite or PostgreSQL, migrated
by Alembic), tokens and the audit log, and the originals as files named by hash."""
