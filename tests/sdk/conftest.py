"""SDK test fixtures: the offline LLM, a live Memori server with an API key, a switchable proxy
(to take the memory server "down" and bring it back) and a private spool folder per test."""

from __future__ import annotations

import os
import time

import pytest

from memori_site.offline_llm import OfflineLLM
from memory.models import AugmentationJob, Exchange, Memory, RecallEvent
from tests.factories import make_api_key
from tests.support.proxy import SwitchableProxy
from tests.support.worker import running_workers


@pytest.fixture
def offline_llm():
    server = OfflineLLM().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def memori_worker(django_db_setup):
    """One real Celery worker (the configured extractor) shared by a module's tests."""
    with running_workers() as pool:
        yield pool.start()


@pytest.fixture
def spool_dir(tmp_path, monkeypatch):
    path = tmp_path / "spool"
    monkeypatch.setenv("MEMORI_SPOOL_DIR", str(path))
    return path


@pytest.fixture
def memori_env(request, live_server, transactional_db, tenant, spool_dir, offline_llm, monkeypatch):
    """Environment of a user script: OpenAI at the offline LLM, Memori at the live test server.

    With a worker running, the teardown waits for the test's augmentation jobs to finish: the database
    flush that ends a transactional test would otherwise race a worker's transaction (on PostgreSQL
    its TRUNCATE can deadlock with it, failing the next test's setup)."""
    _, raw_key = make_api_key(tenant)
    env = {
        "OPENAI_BASE_URL": offline_llm.base_url,
        "OPENAI_API_KEY": "x",
        "MEMORI_API_URL": live_server.url,
        "MEMORI_API_KEY": raw_key,
        "MEMORI_SPOOL_DIR": str(spool_dir),
        # The live test server is one process shared with the test: give recall room on slow CI machines.
        "MEMORI_RECALL_TIMEOUT": "20",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    if "memori_worker" in request.fixturenames:
        wait_for_jobs_to_finish(timeout=60)


def wait_for_jobs_to_finish(timeout: float, quiet_for: float = 1.0) -> None:
    """Until no job is queued or running and nothing new was written for `quiet_for` seconds: an SDK
    thread may still be sending an exchange, and a worker or the server may still be writing after it."""
    deadline = time.monotonic() + timeout
    last, quiet_since = None, time.monotonic()
    while time.monotonic() < deadline:
        state = writes_in_flight()
        if state != last:
            last, quiet_since = state, time.monotonic()
        elif state[0] == 0 and time.monotonic() - quiet_since >= quiet_for:
            return
        time.sleep(0.2)


def writes_in_flight() -> tuple:
    unfinished = (AugmentationJob.Status.QUEUED, AugmentationJob.Status.RUNNING)
    return (
        AugmentationJob.objects.filter(status__in=unfinished).count(),
        Exchange.objects.count(),
        RecallEvent.objects.count(),
        Memory.objects.count(),
    )


@pytest.fixture
def proxy(live_server):
    server = SwitchableProxy(live_server.url)
    yield server
    server.stop()


def system_prompt_of(request_body: dict) -> str:
    """The system text a model request carried (all system/developer messages, joined)."""
    parts = []
    for message in request_body.get("messages", []):
        if message.get("role") in ("system", "developer"):
            content = message.get("content")
            parts.append(content if isinstance(content, str) else str(content))
    return "\n".join(parts)


def subprocess_env(env: dict) -> dict:
    merged = dict(os.environ)
    merged.update(env)
    merged.pop("DJANGO_SETTINGS_MODULE", None)
    return merged
