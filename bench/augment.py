"""Augmentation benchmark: a real Celery worker, the `rules` extractor, the configured DB and broker.

    .venv/bin/python bench/augment.py                 # DATABASE_URL / CELERY_BROKER_URL from env
    .venv/bin/python bench/augment.py --all           # SQLite + file-system broker, then PostgreSQL + Redis

Measures, on one worker process (prefork, concurrency 1):
- throughput: N exchanges recorded while the worker is stopped, then drained (first job start to
  last job finish, from the jobs' own timestamps; and to the last broker message handled, since a
  message whose job a batch already took still costs a delivery);
- latency: record -> memory visible (job finished and committed), one exchange at a time on an idle
  worker, p50 / p95;
- LoCoMo ingest: ../shared/locomo/locomo_conv0-4.json through the real pipeline (each conversation
  an entity, each speaker a process, each session a session, turns keep their timestamps): time,
  memories produced, duplicates merged.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCOMO = BASE_DIR.parent / "shared" / "locomo" / "locomo_conv0-4.json"
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/memori_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/3")

TOPICS = ["billing", "search", "auth", "deploys", "metrics", "alerts", "exports", "imports", "caching", "queues"]
TECH = ["PostgreSQL", "Redis", "Kafka", "JWT", "bcrypt", "Kubernetes", "Celery", "Django", "React", "Grafana"]


def _setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
    os.environ["DEBUG"] = "0"  # DEBUG keeps every query in memory: not what production runs
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("MEMORI_VAR_DIR", str(BASE_DIR / "var" / "bench"))
    os.environ["MEMORI_EXTRACTOR"] = "rules"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _exchange_text(n: int) -> tuple[str, str]:
    topic, tech, other = TOPICS[n % 10], TECH[n % 10], TECH[(n * 7 + 3) % 10]
    user = f"Implement the {topic} service number {n} with {tech}. Use {other} for the {topic} cache."
    assistant = (
        f"Done. The {topic} service {n} now runs on {tech} and stores sessions in {other}. "
        f"The team prefers small pull requests for {topic}. Our team is proficient in {tech}."
    )
    return user, assistant


def _record(tenant, entity: str, process: str, user: str, assistant: str = "", occurred_at=None, session=None):
    from memory.services.recording import ExchangeInput, MessageInput, record_exchange

    messages = [MessageInput(role="user", content=user, created_at=occurred_at)]
    if assistant:
        messages.append(MessageInput(role="assistant", content=assistant, created_at=occurred_at))
    data = ExchangeInput(
        entity_id=entity, process_id=process, messages=messages, session_id=session, occurred_at=occurred_at
    )
    return record_exchange(tenant=tenant, data=data)


def _wait_done(job_ids: list[int], timeout: float = 1800.0) -> None:
    from memory.models import AugmentationJob

    deadline = time.monotonic() + timeout
    while AugmentationJob.objects.filter(pk__in=job_ids, status__in=["queued", "running"]).exists():
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: jobs not finished after {timeout}s")
        time.sleep(0.05)


def _worker():
    from tests.support.worker import WorkerPool

    pool = WorkerPool()
    pool.start(concurrency=1, purge=False, loglevel="WARNING", MEMORI_EXTRACTOR="rules", LOG_LEVEL="WARNING", DEBUG="0")
    return pool


def bench_throughput(tenant, count: int) -> dict:
    from django.utils import timezone

    from memory.models import AugmentationJob
    from tests.support.worker import purge_broker

    purge_broker()
    job_ids = []
    for n in range(count):
        user, assistant = _exchange_text(n)
        job_ids.append(_record(tenant, f"bench_{n % 20}", f"agent_{n % 5}", user, assistant).job.pk)
    pool = _worker()
    try:
        _wait_done(job_ids)
        while _queue_length():  # the deliveries of jobs a batch already took are work too
            time.sleep(0.01)
        drained = timezone.now()
        worker_cpu = _cpu_seconds(pool.workers[0].process.pid)
    finally:
        pool.stop_all()
    jobs = AugmentationJob.objects.filter(pk__in=job_ids)
    first = min(jobs.values_list("started_at", flat=True))
    last = max(jobs.values_list("finished_at", flat=True))
    seconds = (last - first).total_seconds()
    drained_seconds = max((drained - first).total_seconds(), seconds)
    failed = jobs.exclude(status="done").count()
    batches = jobs.values("started_at").distinct().count()
    messages = jobs.filter(published_at__isnull=False).count()  # jobs given a broker message of their own
    return {
        "exchanges": count,
        "seconds": seconds,
        "per_second": count / seconds,
        "drained_per_second": count / drained_seconds,
        "batches": batches,
        "messages": messages,
        "failed": failed,
        "worker_cpu_seconds": worker_cpu,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its live children (the prefork pool), from /proc:
    less sensitive than wall time to what else the machine runs. Includes the worker's start."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        pids.extend(int(child) for child in children)
    return total


def _queue_length() -> int:
    """Messages still waiting in the broker's default queue (0 when it is gone: Redis drops empty lists)."""
    from memori_site.celery import app

    try:
        with app.connection_for_write() as connection:
            return connection.default_channel.queue_declare("celery", passive=True).message_count
    except Exception:  # noqa: BLE001 - no such queue: nothing waits
        return 0


def bench_latency(tenant, count: int) -> dict:
    from django.utils import timezone

    from memory.models import AugmentationJob

    pool = _worker()
    latencies = []
    try:
        for n in range(count):
            user, assistant = _exchange_text(10_000 + n)
            started = timezone.now()
            job_id = _record(tenant, "latency", f"agent_{n % 3}", user, assistant).job.pk
            _wait_done([job_id], timeout=60)
            finished = AugmentationJob.objects.get(pk=job_id).finished_at
            latencies.append((finished - started).total_seconds() * 1000)
            time.sleep(0.02)
    finally:
        pool.stop_all()
    latencies.sort()
    return {
        "exchanges": count,
        "p50_ms": statistics.median(latencies),
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))],
    }


def _locomo_time(text: str) -> datetime:
    from django.utils import timezone

    parsed = datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y")
    return timezone.make_aware(parsed, timezone.get_fixed_timezone(0))


def bench_locomo(tenant, limit: int | None) -> dict:
    from memory.models import AugmentationJob, Memory
    from tests.support.worker import purge_broker

    purge_broker()
    conversations = json.loads(LOCOMO.read_text())
    pool = _worker()
    run = uuid.uuid4().hex[:6]
    job_ids, entities = [], []
    started = time.monotonic()
    try:
        for conversation in conversations:
            data = conversation["conversation"]
            entity = f"locomo_{conversation['sample_id']}_{run}"
            entities.append(entity)
            sessions = sorted(
                (int(key.split("_")[1]) for key in data if key.startswith("session_") and key.count("_") == 1),
            )
            for number in sessions:
                at = _locomo_time(data[f"session_{number}_date_time"])
                session_ids = {}
                for index, turn in enumerate(data[f"session_{number}"]):
                    speaker = turn["speaker"]
                    session_ids.setdefault(speaker, str(uuid.uuid5(uuid.NAMESPACE_URL, f"{entity}/{number}/{speaker}")))
                    text = turn["text"] + (
                        f" [shares a photo: {turn['blip_caption']}]" if turn.get("blip_caption") else ""
                    )
                    recorded = _record(
                        tenant,
                        entity,
                        speaker,
                        text,
                        occurred_at=at + timedelta(seconds=30 * index),
                        session=session_ids[speaker],
                    )
                    job_ids.append(recorded.job.pk)
                    if limit and len(job_ids) >= limit:
                        break
        _wait_done(job_ids)
    finally:
        pool.stop_all()
    seconds = time.monotonic() - started
    jobs = AugmentationJob.objects.filter(pk__in=job_ids)
    totals = {"memories_created": 0, "memories_repeated": 0, "near_duplicates_merged": 0, "triples_created": 0}
    for result in jobs.values_list("result", flat=True):
        for key in totals:
            totals[key] += (result or {}).get(key, 0)
    memories = Memory.objects.filter(entity__external_id__in=entities, entity__tenant=tenant).count()
    return {
        "turns": len(job_ids),
        "seconds": seconds,
        "per_second": len(job_ids) / seconds,
        "memories": memories,
        "exact_duplicates": totals["memories_repeated"],
        "near_duplicates_merged": totals["near_duplicates_merged"],
        "triples": totals["triples_created"],
        "failed": jobs.exclude(status="done").count(),
    }


def run_here(args) -> dict:
    _setup_django()
    from django.conf import settings
    from django.db import connection

    from memory.models import Tenant

    tenant = Tenant.objects.create(name=f"bench-{uuid.uuid4().hex[:8]}")
    label = f"{connection.vendor} + {settings.CELERY_BROKER_URL.split(':')[0]}"
    results = {"config": label, "load": os.getloadavg()[0]}
    results["throughput"] = bench_throughput(tenant, args.exchanges)
    results["latency"] = bench_latency(tenant, args.latency_samples)
    if not args.skip_locomo:
        results["locomo"] = bench_locomo(tenant, args.locomo_limit)
    return results


def _ensure_postgres_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def run_all(args) -> list[dict]:
    _ensure_postgres_database(POSTGRES_URL)
    configs = [
        {"MEMORI_VAR_DIR": str(BASE_DIR / "var" / "bench")},
        {
            "DATABASE_URL": POSTGRES_URL,
            "CELERY_BROKER_URL": REDIS_URL,
            "MEMORI_VAR_DIR": str(BASE_DIR / "var" / "bench-pg"),
        },
    ]
    results = []
    for extra in configs:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")} | extra
        command = [sys.executable, __file__, "--json", *sys.argv[1:]]
        command.remove("--all")
        output = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results


def print_table(results: list[dict]) -> None:
    header = f"{'configuration':<24}{'exch/s':>9}{'drained':>9}{'cpu s':>7}{'p50 ms':>9}{'p95 ms':>9}{'load':>6}"
    header += f"  {'LoCoMo turns':>12}{'time s':>8}"
    header += f"{'turns/s':>9}{'memories':>10}{'exact dup':>11}{'near dup':>10}{'triples':>9}"
    print(header)
    print("-" * len(header))
    for result in results:
        throughput, latency, locomo = result["throughput"], result["latency"], result.get("locomo")
        line = f"{result['config']:<24}{throughput['per_second']:>9.1f}{throughput['drained_per_second']:>9.1f}"
        line += f"{throughput['worker_cpu_seconds']:>7.1f}"
        line += f"{latency['p50_ms']:>9.0f}{latency['p95_ms']:>9.0f}{result['load']:>6.1f}"
        if locomo:
            line += (
                f"  {locomo['turns']:>12}{locomo['seconds']:>8.1f}{locomo['per_second']:>9.1f}{locomo['memories']:>10}"
            )
            line += f"{locomo['exact_duplicates']:>11}{locomo['near_duplicates_merged']:>10}{locomo['triples']:>9}"
        print(line)
    print(
        "\nexch/s: one worker process (prefork -c 1), rules extractor, "
        f"{results[0]['throughput']['exchanges']} exchanges of 2 messages recorded first, first job start to last "
        "job finish; drained: to the last broker message handled (deliveries of jobs a batch already took); "
        "cpu s: the worker's CPU time (user + system, with its start), less sensitive to the load than wall time; "
        f"{results[0]['throughput']['batches']} batches, {results[0]['throughput']['messages']} broker messages "
        "(jobs published with a message of their own; the others rode on them). "
        "p50/p95: record -> job done, one exchange at a time on an idle worker. "
        "load: 1-minute load average when the run started (2 cores)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true", help="SQLite + file-system broker, then PostgreSQL + Redis")
    parser.add_argument("--exchanges", type=int, default=1000)
    parser.add_argument("--latency-samples", type=int, default=100)
    parser.add_argument("--locomo-limit", type=int, default=None, help="ingest only this many LoCoMo turns")
    parser.add_argument("--skip-locomo", action="store_true")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.all:
        print_table(run_all(args))
        return
    results = run_here(args)
    if args.json:
        print(json.dumps(results, default=str))
    else:
        print_table([results])


if __name__ == "__main__":
    main()
