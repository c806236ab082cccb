"""The database restarting under load: requests fail cleanly with 503 and recover on their own,
without restarting the web server."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.reliability.private_postgres import PrivatePostgres, free_port
from tests.reliability.web_process import manage, request, start_gunicorn, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def private_postgres():
    # Not under pytest's tmp dir: the postgres user must be able to reach the cluster's folder.
    server = PrivatePostgres(Path(tempfile.mkdtemp(prefix="memori-pg-")))
    if not server.available:
        pytest.skip("needs root and PostgreSQL's initdb/pg_ctl to run a private server")
    server.create()
    server.start()
    yield server
    server.destroy()


def _exchange(text: str) -> dict:
    return {
        "entity_id": "customer_456",
        "process_id": "triage_agent",
        "idempotency_key": str(uuid.uuid4()),
        "messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "Noted."}],
    }


def test_requests_get_503_while_the_database_is_down_and_recover_after(private_postgres, tmp_path):
    env = dict(
        os.environ,
        DATABASE_URL=private_postgres.url,
        DEBUG="1",
        MEMORI_VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_URL="filesystem://",
    )
    manage(env, "migrate", "--noinput")
    api_key = manage(env, "create_api_key", "--tenant", "acme", "--name", "agents").split()[-1]
    port = free_port()
    web = start_gunicorn(env, port, tmp_path / "web.log")
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: request("GET", base + "/api/v1/health/")[0] == 200, timeout=30)
        before = _exchange("I was charged twice on my card.")
        assert request("POST", base + "/api/v1/exchanges/", before, api_key)[0] == 201

        private_postgres.stop()
        status, body = request("POST", base + "/api/v1/exchanges/", _exchange("Lost while down?"), api_key)
        assert status == 503
        assert "error" in body
        assert request("GET", base + "/api/v1/health/")[0] == 503

        private_postgres.start()
        after = _exchange("I still cannot log in.")
        recovered = wait_until(
            lambda: request("POST", base + "/api/v1/exchanges/", after, api_key)[0] in (200, 201), timeout=30
        )
        assert recovered, "the web server did not recover after the database came back"
        assert web.poll() is None, "the web server process died"
    finally:
        web.terminate()
        web.wait(10)

    stored = manage(
        env,
        "shell",
        "-c",
        "from memory.models import Exchange; print(sorted(Exchange.objects.values_list('idempotency_key', flat=True)))",
    )
    assert before["idempotency_key"] in stored
    assert after["idempotency_key"] in stored
    assert stored.count(after["idempotency_key"]) == 1
