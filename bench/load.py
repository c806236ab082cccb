"""Load benchmark: N simulated agents drive the REST API (record + recall mix) against gunicorn.

Starts its own gunicorn and Celery worker on the database named by DATABASE_URL (default: a fresh
SQLite file under var/bench) and the broker named by CELERY_BROKER_URL, runs for a bounded time,
prints throughput, latency percentiles and errors, then checks that every exchange the agents were
told was recorded is in the database exactly once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_bench \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/load.py --agents 16 --seconds 30
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
FACTS = [
    "The project uses PostgreSQL for storage.",
    "Our API uses JWT tokens for authentication.",
    "Passwords are hashed with bcrypt.",
    "The customer was charged twice on their card.",
    "Deployments run on Kubernetes in eu-west-1.",
    "The team prefers TypeScript for the frontend.",
    "Invoices are sent on the first day of each month.",
    "The notification system sends email and in-app messages.",
]
QUERIES = ["How do we authenticate?", "What database?", "billing problem", "deployment plan", "frontend language"]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


class Agent(threading.Thread):
    def __init__(self, index: int, base_url: str, api_key: str, deadline: float, entity: str) -> None:
        super().__init__(daemon=True)
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}
        self.deadline = deadline
        self.entity = entity
        self.process = f"agent_{index:02d}"
        self.session = str(uuid.uuid4())
        self.rng = random.Random(index)
        self.latencies: dict[str, list[float]] = {"record": [], "recall": []}
        self.errors: list[str] = []
        self.recorded_keys: list[str] = []

    def post(self, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.base_url + path, data=json.dumps(body).encode(), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            return exc.code, {"error": exc.read()[:200].decode(errors="replace")}
        except OSError as exc:
            return 0, {"error": str(exc)}

    def run(self) -> None:
        while time.monotonic() < self.deadline:
            if self.rng.random() < 0.5:
                self.record()
            else:
                self.recall()

    def record(self) -> None:
        key = str(uuid.uuid4())
        fact = self.rng.choice(FACTS)
        body = {
            "entity_id": self.entity,
            "process_id": self.process,
            "session_id": self.session,
            "idempotency_key": key,
            "model": "gpt-4o-mini",
            "messages": [
                {"role": "user", "content": f"Note this for the team: {fact}"},
                {"role": "assistant", "content": f"Noted. {fact}"},
            ],
        }
        started = time.perf_counter()
        status, payload = self.post("/api/v1/exchanges/", body)
        self.latencies["record"].append((time.perf_counter() - started) * 1000)
        if status in (200, 201):
            self.recorded_keys.append(key)
        else:
            self.errors.append(f"record {status}: {payload}")

    def recall(self) -> None:
        body = {"entity_id": self.entity, "process_id": self.process, "query": self.rng.choice(QUERIES)}
        started = time.perf_counter()
        status, payload = self.post("/api/v1/recall/", body)
        self.latencies["recall"].append((time.perf_counter() - started) * 1000)
        if status != 200:
            self.errors.append(f"recall {status}: {payload}")


def wait_for_health(base_url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base_url + "/api/v1/health/", timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def manage(env: dict, *args: str) -> str:
    done = subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"manage.py {args[0]} failed (does the database exist?):\n{done.stderr[-2000:]}")
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()

    var_dir = ROOT / "var" / "bench-load"
    var_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, DEBUG="1", MEMORI_VAR_DIR=str(var_dir), MEMORI_API_RATE="1000000/min", LOG_LEVEL="WARNING")
    if "DATABASE_URL" not in env:
        db_file = var_dir / "load.sqlite3"
        db_file.unlink(missing_ok=True)
        env["DATABASE_URL"] = f"sqlite:///{db_file}"
    manage(env, "migrate", "--noinput")
    api_key = manage(env, "create_api_key", "--tenant", "load", "--name", f"load-{uuid.uuid4().hex[:8]}").split()[-1]
    entity = f"load_entity_{uuid.uuid4().hex[:8]}"

    base_url = f"http://127.0.0.1:{args.port}"
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "memori_site.wsgi", "-b", f"127.0.0.1:{args.port}",
         "-w", str(args.web_workers), "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "memori_site", "worker", "-c", "2", "-l", "WARNING"], cwd=ROOT, env=env
    )
    try:
        wait_for_health(base_url)
        deadline = time.monotonic() + args.seconds
        agents = [Agent(i, base_url, api_key, deadline, entity) for i in range(args.agents)]
        started = time.monotonic()
        for agent in agents:
            agent.start()
        for agent in agents:
            agent.join()
        elapsed = time.monotonic() - started
    finally:
        web.terminate()
        worker.terminate()
        web.wait(10)
        worker.wait(30)

    record = [v for a in agents for v in a.latencies["record"]]
    recall = [v for a in agents for v in a.latencies["recall"]]
    errors = [e for a in agents for e in a.errors]
    keys = [k for a in agents for k in a.recorded_keys]
    stored = json.loads(
        manage(
            env,
            "shell",
            "-c",
            "import json; from memory.models import Exchange; "
            f"keys = list(Exchange.objects.filter(entity__external_id={entity!r})"
            ".values_list('idempotency_key', flat=True)); print(json.dumps(keys))",
        )
        .strip()
        .splitlines()[-1]
    )
    lost = set(keys) - set(stored)
    duplicated = len(stored) - len(set(stored))

    backend = env["DATABASE_URL"].split(":")[0] + " + " + env.get("CELERY_BROKER_URL", "filesystem").split(":")[0]
    print(f"\nLoad: {args.agents} agents, {elapsed:.1f} s, {backend}, gunicorn -w {args.web_workers} --threads 4")
    print(f"{'op':<8}{'count':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for name, values in (("record", record), ("recall", recall), ("all", record + recall)):
        print(
            f"{name:<8}{len(values):>8}{len(values) / elapsed:>9.1f}{statistics.median(values) if values else 0:>9.1f}"
            f"{percentile(values, 95):>9.1f}{percentile(values, 99):>9.1f}"
        )
    print(f"errors: {len(errors)}  recorded: {len(keys)}  stored: {len(stored)}  lost: {len(lost)}  "
          f"duplicated: {duplicated}")  # fmt: skip
    for error in errors[:5]:
        print("  ", error)


if __name__ == "__main__":
    main()
