"""Loaded with `-p` before pytest-django configures Django: the test run's environment defaults."""

import os
from pathlib import Path

os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MEMORI_VAR_DIR", str(Path(__file__).resolve().parent.parent / "var" / "test"))
