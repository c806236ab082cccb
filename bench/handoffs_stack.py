"""The stack bench/handoffs.py runs its scenarios on, and what they measure with.

`Stack`: a fresh database (SQLite, or PostgreSQL + Redis), gunicorn and a Celery worker as
`make run` starts them, the `rules` extractor, and the offline OpenAI-compatible model, which keeps
every request it gets (`stack.llm.received()`). `stack.agent(entity, process)` is a real agent: an
OpenAI client on that model wrapped by a `Memori` of its own.

Where it writes: a new folder under `BENCH_TMP` (default: the system's temporary folder), the
PostgreSQL database `BENCH_POSTGRES_DATABASE` (default memori_bench_handoffs, dropped when done)
and the Redis database of `BENCH_REDIS_URL` (flushed): give each concurrent run its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from memori_site.offline_llm import OfflineLLM  # noqa: E402 (after the path is set)

POSTGRES_ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
POSTGRES_DATABASE = os.environ.get("BENCH_POSTGRES_DATABASE", "memori_bench_handoffs")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
BENCH_TMP = os.environ.get("BENCH_TMP") or None
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))


# -- the stack ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_json(method: str, url: str, body: dict | None = None, api_key: str = "", timeout: float = 60) -> dict:
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (local URL)
        return json.loads(response.read() or b"{}")


@dataclass
class Stack:
    """A fresh database, gunicorn, a Celery worker and the offline model, for one backend."""

    backend: str  # "sqlite" or "postgresql"
    root: Path = field(default_factory=lambda: _new_root())
    port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)
    keys: dict[str, str] = field(default_factory=dict)
    llm: OfflineLLM | None = None
    agents: list = field(default_factory=list)  # every Memori object agent() made

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in ("DJANGO_SETTINGS_MODULE", "CELERY_TASK_ALWAYS_EAGER"):
            env.pop(name, None)
        env.update(
            DEBUG="0",
            MEMORI_HTTPS="0",  # plain HTTP on 127.0.0.1: no redirect to HTTPS
            SECRET_KEY="bench-only-not-a-secret",
            MEMORI_VAR_DIR=str(self.root / "var"),
            MEMORI_EXTRACTOR="rules",
            PYTHONPATH=str(ROOT),
            PYTHONUNBUFFERED="1",
        )
        if self.backend == "postgresql":
            env["DATABASE_URL"] = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + POSTGRES_DATABASE
            env["CELERY_BROKER_URL"] = REDIS_URL
        else:
            env["DATABASE_URL"] = f"sqlite:///{self.root / 'var' / 'memori.sqlite3'}"
            env["CELERY_BROKER_URL"] = "filesystem://"
        return env

    def start(self) -> Stack:
        (self.root / "var").mkdir(parents=True, exist_ok=True)
        if self.backend == "postgresql":
            _recreate_postgres_database()
            _flush_redis()
        self.manage("migrate", "--noinput")
        for tenant in ("agents", "importer"):
            self.keys[tenant] = self.manage("create_api_key", "--tenant", tenant, "--name", "bench").split()[-1]
        log = (self.root / "web.log").open("wb")
        # As bin/run (`make run`) starts them: gunicorn 2 x 4 threads, a worker of concurrency 2.
        web = [PYTHON, "-m", "gunicorn", "memori_site.wsgi", "-b", f"127.0.0.1:{self.port}", "-w", "2"]
        web += ["--threads", "4"]
        self.processes.append(subprocess.Popen(web, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))
        self.start_worker()
        self.llm = OfflineLLM().start()
        deadline = time.monotonic() + 60
        while True:
            try:
                http_json("GET", self.url + "/api/v1/health/", timeout=5)
                break
            except (OSError, urllib.error.HTTPError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {(self.root / 'web.log').read_text()[-2000:]}")
                time.sleep(0.2)
        return self

    def start_worker(self) -> None:
        log = (self.root / "worker.log").open("ab")
        worker = [CELERY, "-A", "memori_site", "worker", "--pool=prefork", "-c", "2", "-l", "WARNING"]
        worker += ["--without-gossip", "--without-mingle", "-n", f"handoffs-{uuid.uuid4().hex[:6]}@%h"]
        self.processes.append(subprocess.Popen(worker, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    @contextmanager
    def worker_stopped(self) -> Iterator[None]:
        """No worker runs inside: what agents record stays pending (served raw), then is augmented."""
        worker = self.processes.pop()
        worker.terminate()
        worker.wait(timeout=60)
        try:
            yield
        finally:
            self.start_worker()

    def manage(self, *args: str) -> str:
        done = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
        return done.stdout

    def stop(self) -> None:
        if self.llm is not None:
            self.llm.stop()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.backend == "postgresql":
            _drop_postgres_database()

    def agent(self, entity: str, process: str, *, tenant: str = "agents", api_url: str | None = None):
        """A real agent: an OpenAI client on the offline model, wrapped by a Memori of its own."""
        from openai import OpenAI

        from memori import Memori

        # The openai client's default retries: 24 agents connecting at once may find the model's backlog full.
        client = OpenAI(base_url=self.llm.base_url, api_key="x", max_retries=2)
        mem = Memori(api_url=api_url or self.url, api_key=self.keys[tenant], spool_dir=self.root / "spool")
        mem.llm.register(client)
        mem.attribution(entity_id=entity, process_id=process)
        self.agents.append(mem)
        return client, mem

    def wait_for_agents(self, timeout: float = 300) -> None:
        """Until everything every agent recorded is augmented (`mem.augmentation.wait()` of each)."""
        deadline = time.monotonic() + timeout
        for mem in self.agents:
            result = mem.augmentation.wait(timeout=max(1.0, deadline - time.monotonic()))
            if not result.ok:
                raise RuntimeError(f"augmentation failed: {result.failed}")

    # -- the API, as a script beside the agents would use it ----------------------------------------
    def api(self, method: str, path: str, body: dict | None = None, *, tenant: str = "agents") -> dict:
        return http_json(method, self.url + path, body, self.keys[tenant])

    def recall(self, entity: str, process: str, query: str, *, tenant: str = "agents", **options) -> dict:
        """`POST /api/v1/recall/`: the items (in block order), the block and its token count."""
        body = {"entity_id": entity, "process_id": process, "query": query, **options}
        return self.api("POST", "/api/v1/recall/", body, tenant=tenant)

    def import_exchanges(self, exchanges: list[dict], *, tenant: str = "agents", chunk: int = 50) -> list[int]:
        """`POST /api/v1/exchanges/bulk/` (with their original times); returns the job ids."""
        job_ids = []
        for start in range(0, len(exchanges), chunk):
            answer = self.api(
                "POST", "/api/v1/exchanges/bulk/", {"exchanges": exchanges[start : start + chunk]}, tenant=tenant
            )
            job_ids += [item["job_id"] for item in answer["results"]]
        return job_ids

    def wait_for_jobs(self, job_ids: list[int], *, tenant: str = "agents", timeout: float = 600) -> None:
        """Until every job is done or failed (`GET /api/v1/jobs/?wait=`), at most `timeout` seconds."""
        deadline = time.monotonic() + timeout
        pending = list(job_ids)
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} augmentation jobs still unfinished after {timeout:.0f} s")
            still = []
            for start in range(0, len(pending), 200):
                ids = ",".join(map(str, pending[start : start + 200]))
                answer = self.api("GET", f"/api/v1/jobs/?ids={ids}&wait=5", tenant=tenant)
                still += [job["id"] for job in answer["jobs"] if job["status"] not in ("done", "failed")]
            pending = still

    def memory_count(self, entity: str, *, tenant: str = "agents") -> int:
        return self.api("GET", f"/api/v1/memories/?entity_id={entity}&page_size=1", tenant=tenant)["count"]


def _new_root() -> Path:
    if BENCH_TMP:
        os.makedirs(BENCH_TMP, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="memori-handoffs-", dir=BENCH_TMP))


def _recreate_postgres_database() -> None:
    import psycopg

    _drop_postgres_database()
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{POSTGRES_DATABASE}"')


def _drop_postgres_database() -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{POSTGRES_DATABASE}" WITH (FORCE)')


def _flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


# -- measuring ---------------------------------------------------------------------------------
@dataclass
class Row:
    scenario: str
    measure: str
    value: str
    target: str = ""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def timed(function: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


CONTEXT_RE = re.compile(r"<memori_context>.*?</memori_context>", re.S)


def ask(client, text: str, *, system: str = "") -> str:
    """One call of an agent to its model (through the Memori wrapper); the model's reply."""
    messages = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": text})
    return client.chat.completions.create(model="m", messages=messages).choices[0].message.content


def system_prompt(request: dict) -> str:
    """The system text a model request carried (the memory block is merged into it)."""
    return "\n".join(
        str(message.get("content"))
        for message in request.get("messages", [])
        if message.get("role") in ("system", "developer")
    )


def memory_block(request: dict) -> str:
    """The `<memori_context>` block(s) a model request carried, delimiters included."""
    return "\n".join(CONTEXT_RE.findall(system_prompt(request)))


def block_tokens(block: str) -> int:
    """Tokens of a block, as recall counts them against its budget."""
    from memory.embedding import count_tokens

    return count_tokens(block)


def has_memory_block(request: dict) -> bool:
    return any(
        "<memori_context>" in str(message.get("content"))
        for message in request.get("messages", [])
        if message.get("role") in ("system", "developer")
    )


def latency_rows(scenario: str, label: str, values: list[float], target: float | None) -> list[Row]:
    if not values:
        return [Row(scenario, label, "no calls")]
    p50, p95 = statistics.median(values), percentile(values, 0.95)
    return [
        Row(scenario, f"{label} p50 / p95 (ms)", f"{p50:.0f} / {p95:.0f}", f"p95 <= {target:.0f}" if target else ""),
        Row(scenario, f"{label} max (ms), n", f"{max(values):.0f}, {len(values)}"),
    ]
