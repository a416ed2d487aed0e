"""Shared fixtures. Tests use real databases (SQLite by default, PostgreSQL when
DATABASE_URL is set) and the project's own code; nothing of ours is mocked."""
