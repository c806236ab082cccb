"""The demo's admin/admin and its API key exist only when asked for: by default with DEBUG on (what
`make run` sets), never with DEBUG off unless MEMORI_DEMO=1."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from tests.support.slow_clients import ROOT, free_port


@override_settings(DEBUG=False, MEMORI_DEMO=False)
def test_seed_demo_refuses_without_the_demo_switch(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    with pytest.raises(CommandError, match="MEMORI_DEMO=1"):
        call_command("seed_demo")
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not (tmp_path / "demo_api_key").exists()


@override_settings(DEBUG=False, MEMORI_DEMO=True)
def test_seed_demo_creates_the_demo_when_asked(db, tmp_path, settings):
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    assert get_user_model().objects.get(username="admin").check_password("admin")
    assert (tmp_path / "demo_api_key").read_text().strip()


def _run_until_up(env: dict, timeout: float = 120) -> str:
    """Starts bin/run, returns what it printed once it says Memori is running, and stops it all."""
    process = subprocess.Popen(
        ["bin/run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = []
    deadline = time.monotonic() + timeout
    try:
        for line in process.stdout:
            output.append(line)
            if line.startswith("Logs:") or time.monotonic() > deadline:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):  # a worker still shutting down
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    return "".join(output)


@pytest.mark.slow
def test_bin_run_with_debug_off_creates_no_demo(tmp_path):
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "test-only-" + "x" * 50,
        "MEMORI_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'memori.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "PORT": str(free_port()),
    }
    env.pop("MEMORI_DEMO", None)
    env.pop("DJANGO_SETTINGS_MODULE", None)

    output = _run_until_up(env)

    assert "no demo data: MEMORI_DEMO is off" in output, output
    assert "admin / admin" not in output
    with sqlite3.connect(tmp_path / "memori.sqlite3") as database:
        assert database.execute("select count(*) from auth_user").fetchone() == (0,)
        assert database.execute("select count(*) from memory_apikey").fetchone() == (0,)
    assert not (tmp_path / "demo_api_key").exists()
