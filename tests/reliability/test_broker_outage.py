"""The broker down when an exchange is recorded: the exchange and its job are still stored, and
once the broker is back the periodic sweeper republishes the job and a worker runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid

import pytest

from tests.reliability.private_postgres import free_port
from tests.reliability.web_process import ROOT, manage, request, start_gunicorn, wait_until

pytestmark = pytest.mark.slow


class PrivateRedis:
    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(self.answers, timeout=10), "private redis did not start"

    def answers(self) -> bool:
        ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True)
        return ping.stdout.strip() == "PONG"

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def private_redis():
    if not (shutil.which("redis-server") and shutil.which("redis-cli")):
        pytest.skip("needs redis-server to run a private broker")
    server = PrivateRedis(free_port())
    server.start()
    yield server
    server.stop()


def _celery(env: dict, log, *args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "celery", "-A", "memori_site", *args]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def _job_state(env: dict, job_id: int) -> str:
    code = (
        "from memory.models import AugmentationJob as J; "
        f"j = J.objects.get(pk={job_id}); print(j.status, j.published_at is not None)"
    )
    return manage(env, "shell", "-c", code).strip().splitlines()[-1]


def test_an_exchange_recorded_while_the_broker_is_down_is_augmented_once_it_is_back(private_redis, tmp_path):
    env = dict(
        os.environ,
        DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'outage.sqlite3'}",
        MEMORI_VAR_DIR=str(tmp_path / "var"),
        CELERY_BROKER_URL=f"redis://127.0.0.1:{private_redis.port}/0",
        MEMORI_SWEEP_INTERVAL_SECONDS="1",
        MEMORI_STALE_JOB_SECONDS="2",
    )
    manage(env, "migrate", "--noinput")
    api_key = manage(env, "create_api_key", "--tenant", "acme", "--name", "agents").split()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes = [start_gunicorn(env, port, tmp_path / "web.log")]
    try:
        assert wait_until(lambda: request("GET", base + "/api/v1/health/")[0] == 200, timeout=30)
        private_redis.stop()

        body = {
            "entity_id": "customer_456",
            "process_id": "triage_agent",
            "idempotency_key": str(uuid.uuid4()),
            "messages": [{"role": "user", "content": "The customer was charged twice on the Visa card."}],
        }
        status, recorded = request("POST", base + "/api/v1/exchanges/", body, api_key)
        assert status == 201, recorded
        assert _job_state(env, recorded["job_id"]) == "queued False"

        private_redis.start()
        processes.append(_celery(env, tmp_path / "worker.log", "worker", "-c", "1", "-l", "INFO"))
        processes.append(_celery(env, tmp_path / "beat.log", "beat", "-s", str(tmp_path / "beat-schedule")))
        jobs_url = f"{base}/api/v1/jobs/?ids={recorded['job_id']}&wait=5"
        done = wait_until(lambda: request("GET", jobs_url, api_key=api_key)[1].get("pending") == 0, timeout=90)
        assert done, (tmp_path / "worker.log").read_text()[-3000:]
        status, page = request("GET", base + "/api/v1/memories/?entity_id=customer_456", api_key=api_key)
        assert status == 200
        assert any("charged twice" in item["content"] for item in page["results"])
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(20)
