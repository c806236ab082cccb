"""Shared test set-up. Tests talk to the real database named by DATABASE_URL (SQLite by default)."""

pytest_plugins = ["tests.factories"]
