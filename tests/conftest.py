"""Shared test set-up. Tests talk to the real database named by DATABASE_URL (SQLite by default)."""

import os

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MEMORI_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "test"))

pytest_plugins = ["tests.factories"]
