"""A real Celery worker in a subprocess, on the test database and the configured broker.

The worker gets the database pytest-django created (``DATABASE_URL`` built from the live
connection's settings; for SQLite the file), the same ``CELERY_BROKER_URL`` and the same
``MEMORI_VAR_DIR`` (the file-system broker's folders live there). Tests that use it must commit
their data: ``pytest.mark.django_db(transaction=True)``.

    @pytest.fixture
    def workers(django_db_setup):
        with running_workers() as pool:
            yield pool

    def test_x(workers):
        workers.start(MEMORI_EXTRACTOR="tests.support.extractors.LineExtractor")
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))
READY_TIMEOUT = 90.0


def database_url() -> str:
    """The URL of the database this test process is connected to (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    if "postgresql" not in db["ENGINE"]:
        raise RuntimeError(f"no worker support for {db['ENGINE']}")
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = db.get("HOST") or "127.0.0.1"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}@{host}{port}/{db['NAME']}"


def purge_broker() -> None:
    """Drop messages left from earlier tests, so a new worker only sees this test's jobs."""
    from memori_site.celery import app

    try:
        app.control.purge()
    except Exception:  # noqa: BLE001 - a broker that cannot purge just keeps stale ids (no-ops)
        pass


class WorkerProcess:
    def __init__(
        self,
        *,
        concurrency: int = 2,
        env: dict[str, str] | None = None,
        name: str = "test",
        loglevel: str = "INFO",
        extra_args: tuple[str, ...] = (),
    ):
        self.extra_args = tuple(extra_args)
        self.name = f"{name}-{uuid.uuid4().hex[:6]}"
        self.concurrency = concurrency
        self.loglevel = loglevel
        self.log_path = Path(settings.VAR_DIR) / "log" / f"worker-{self.name}.log"
        self.env = self._environment(env or {})
        self.process: subprocess.Popen | None = None

    def _environment(self, overrides: dict[str, str]) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "memori_site.settings",
                "DEBUG": "1",
                "DATABASE_URL": database_url(),
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "MEMORI_VAR_DIR": str(settings.VAR_DIR),
                "MEMORI_EXTRACTOR": settings.MEMORI_EXTRACTOR,
                "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        env.update({key: str(value) for key, value in overrides.items()})
        return env

    def start(self) -> WorkerProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            CELERY,
            "-A",
            "memori_site",
            "worker",
            "--pool=prefork",
            "-c",
            str(self.concurrency),
            "-l",
            self.loglevel,
            "-n",
            f"{self.name}@%h",
            "--without-gossip",
            "--without-mingle",
            *self.extra_args,
        ]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._started = time.monotonic()
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited with {self.process.returncode}:\n{self.log()}")
            if " ready." in self.log() or self._pinged():
                return
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"celery worker not ready after {READY_TIMEOUT}s:\n{self.log()}")

    def _pinged(self) -> bool:
        """Readiness when the log level hides the "ready." line."""
        if self.loglevel.upper() == "INFO" or time.monotonic() - self._started < 3:
            return False
        from memori_site.celery import app

        try:
            return bool(app.control.ping(destination=[f"{self.name}@{os.uname().nodename}"], timeout=1.0))
        except Exception:  # noqa: BLE001 - broker without remote control: fall back to the log
            return False

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once: no warm shutdown, no acks."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


class WorkerPool:
    """Starts workers with extra environment (the first start purges the broker); ``stop_all``
    at teardown. A test module wraps it in its own fixture (needs ``django_db_setup`` first)."""

    def __init__(self) -> None:
        self.workers: list[WorkerProcess] = []

    def start(
        self, concurrency: int = 2, *, purge: bool = True, loglevel: str = "INFO", extra_args=(), **env
    ) -> WorkerProcess:
        if purge and not self.workers:
            purge_broker()
        worker = WorkerProcess(concurrency=concurrency, env=env, loglevel=loglevel, extra_args=extra_args)
        self.workers.append(worker)
        return worker.start()

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@contextmanager
def running_workers() -> Iterator[WorkerPool]:
    pool = WorkerPool()
    try:
        yield pool
    finally:
        pool.stop_all()
