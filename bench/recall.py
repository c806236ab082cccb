"""Server-side recall latency at 1,000 / 10,000 / 100,000 memories in one entity, warm and cold cache.

Synthetic but realistic memories (varied sentences, real embeddings from the configured embedder,
computed in batches, one provenance row each) are bulk-inserted once per size and kept for later
runs. "warm" is a recall whose entity index is already cached; "cold" clears the cache first, so it
includes loading and indexing every memory of the entity; "handoffs" is warm with twelve memories of
four other agents in the handoff window (recalled without matching). Every recall is the full
`recall_for_call` (entity lookup, embed, search, provenance, pending jobs, history, recall event
with hits and counters).

    DATABASE_URL=sqlite:///var/bench-recall.sqlite3 .venv/bin/python bench/recall.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_bench .venv/bin/python bench/recall.py

Options: --sizes 1000,10000,100000  --queries 200  --cold 5

It runs with DEBUG off, as a server does, and prints the load average next to each size: on a
shared machine the percentiles move with it, so compare runs made at similar load.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
# A server runs with DEBUG off: with it on, Django logs every query it runs, which a recall would pay.
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
TENANT = "recall-bench"
PROCESSES = ("research_agent", "analysis_agent", "billing_agent", "support_agent", "coder", "reviewer")
SUBJECTS = (
    "The customer",
    "The API",
    "The billing service",
    "The mobile app",
    "Our data team",
    "The project",
    "The admin dashboard",
    "The search index",
    "The payment gateway",
    "The support queue",
    "The user",
    "The nightly job",
    "The staging cluster",
    "The marketing site",
    "The auth service",
    "The CEO",
)
VERBS = (
    "prefers",
    "depends on",
    "was migrated to",
    "reported a problem with",
    "stores data in",
    "is blocked by",
    "asked about",
    "switched to",
    "is measured by",
    "uses",
    "was charged for",
    "needs approval for",
)
OBJECTS = (
    "PostgreSQL",
    "Redis",
    "Kafka",
    "dark mode",
    "weekly invoices",
    "a refund",
    "TypeScript",
    "JWT tokens",
    "bcrypt hashing",
    "the EU region",
    "a premium plan",
    "Terraform",
    "Slack alerts",
    "a CSV export",
    "two-factor login",
    "a new onboarding flow",
    "the Q3 roadmap",
    "GraphQL",
    "S3 buckets",
    "Stripe",
)
DETAILS = (
    "since March",
    "after the outage",
    "for compliance reasons",
    "according to the last review",
    "because of latency",
    "until the next release",
    "as agreed with finance",
    "for the Berlin office",
    "on weekends only",
    "with a 30 day trial",
    "per the security audit",
    "to cut costs",
)
QUERIES = (
    "Which database does the project use?",
    "What did the customer complain about?",
    "How is the auth service secured?",
    "Why was the billing service migrated?",
    "refund for the customer",
    "What does the mobile app depend on?",
    "Which region stores the data?",
    "customer_4521 invoice",
    "What is blocked by compliance?",
    "Who asked about GraphQL?",
    "bcrypt",
    "dark mode preference",
)


def setup_django() -> None:
    import django
    from django.core.management import call_command

    ensure_database(os.environ.get("DATABASE_URL", ""))
    django.setup()
    call_command("migrate", verbosity=0)


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in DATABASE_URL if it does not exist yet."""
    if not url.startswith("postgres"):
        return
    import psycopg
    from psycopg import sql

    base, _, name = url.rpartition("/")
    name = name.split("?")[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def synthetic_memory(number: int, rng: random.Random) -> str:
    sentence = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(DETAILS)}"
    return f"{sentence} (ticket customer_{number})"


def populate(tenant, size: int) -> tuple[object, float]:
    """Entity `bench-<size>` with exactly `size` memories (created once, reused afterwards)."""
    from django.utils import timezone

    from memory.embedding import get_embedder, to_bytes
    from memory.extraction.normalize import content_hash, normalize_text
    from memory.models import Entity, Memory, Process, Provenance
    from memory.services.embedding_store import bump_memory_version

    entity, _ = Entity.objects.get_or_create(tenant=tenant, external_id=f"bench-{size}")
    if Memory.objects.filter(entity=entity).count() == size:
        return entity, 0.0
    started = time.perf_counter()
    Memory.objects.filter(entity=entity).delete()
    processes = [Process.objects.get_or_create(tenant=tenant, external_id=name)[0] for name in PROCESSES]
    embedder = get_embedder()
    rng = random.Random(size)
    now = timezone.now()
    for start in range(0, size, 5000):
        texts = [synthetic_memory(n, rng) for n in range(start, min(start + 5000, size))]
        vectors = embedder.embed(texts)
        batch = []
        for offset, (text, vector) in enumerate(zip(texts, vectors, strict=True)):
            process = processes[(start + offset) % len(processes)]
            batch.append(
                Memory(
                    entity=entity,
                    kind=("fact", "preference", "skill")[offset % 3],
                    content=text,
                    normalized=normalize_text(text),
                    content_hash=content_hash(text),
                    embedding=to_bytes(vector),
                    embedding_model=embedder.name,
                    first_process=process,
                    mention_count=1 + offset % 4,
                    first_seen_at=now,
                    last_seen_at=now - np.timedelta64(offset % 90, "D").item(),
                )
            )
        created = Memory.objects.bulk_create(batch, batch_size=1000)
        if created and created[0].pk is None:  # backends without RETURNING on bulk insert
            created = list(Memory.objects.filter(entity=entity).order_by("-id")[: len(batch)])
        Provenance.objects.bulk_create(
            [
                Provenance(entity=entity, memory=m, process_id=m.first_process_id, source="import", mentioned_at=now)
                for m in created
            ],
            batch_size=1000,
        )
        print(f"  bench-{size}: {min(start + 5000, size)} memories", end="\r", flush=True)
    bump_memory_version(entity.pk)
    vacuum_after_bulk_load()
    print()
    return entity, time.perf_counter() - started


def vacuum_after_bulk_load() -> None:
    """PostgreSQL: planner statistics and visibility map as autovacuum gives them a live database
    soon after a bulk load (without them the planner expects a few rows per entity, and index-only
    scans read the table anyway)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("memory_memory", "memory_provenance"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = np.percentile(np.asarray(samples), [50, 95, 99])
    return float(p50), float(p95), float(p99)


def run_size(tenant, entity, queries: int, cold_runs: int) -> dict:
    from memory.models import RecallEvent
    from memory.recall.index import recall_cache
    from memory.services.recall import RecallRequest, recall_for_call

    rng = random.Random(7)

    def one(query: str) -> float:
        started = time.perf_counter()
        recall_for_call(
            RecallRequest(tenant=tenant, entity_id=entity.external_id, process_id="analysis_agent", query=query)
        )
        return (time.perf_counter() - started) * 1000

    cold = []
    for _ in range(cold_runs):
        recall_cache().clear()
        cold.append(one(rng.choice(QUERIES)))
    tracemalloc.start()
    recall_cache().clear()
    one("warm up")
    cache_bytes = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    first_event = RecallEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    warm = [one(rng.choice(QUERIES) + f" {rng.randint(0, 9999)}") for _ in range(queries)]
    after_write = [write_then_recall(tenant, entity, one, number) for number in range(cold_runs)]
    handoff = recall_with_handoffs(
        tenant, entity, one, [rng.choice(QUERIES) + f" {rng.randint(0, 9999)}" for _ in range(max(queries // 2, 1))]
    )
    split = RecallEvent.objects.filter(entity=entity, id__gt=first_event).values_list(
        "embed_ms", "search_ms", "fetch_ms"
    )
    embed, search, fetch = zip(*split, strict=True) if split else ((0,), (0,), (0,))
    return {
        "warm": percentiles(warm),
        "cold": percentiles(cold),
        "after_write": percentiles(after_write),
        "handoff": percentiles(handoff),
        "split": (float(np.median(embed)), float(np.median(search)), float(np.median(fetch))),
        "cache_mb": cache_bytes / 1e6,
        "estimate_mb": recall_cache().stats()["bytes"] / 1e6,
    }


def write_then_recall(tenant, entity, one, number: int) -> float:
    """A memory written (as augmentation does: upsert, then bump the version), then recalled: the
    warm cache refreshes incrementally. The probe memory is removed again afterwards."""
    from django.utils import timezone

    from memory.models import Memory, Process
    from memory.services.embedding_store import bump_memory_version
    from memory.services.storing import Mention, memory_mention

    process = Process.objects.get(tenant=tenant, external_id="coder")
    mention = Mention(process=process, mentioned_at=timezone.now())
    probe = memory_mention(entity=entity, kind="fact", content=f"Probe {number}: the quokka uses Zig", mention=mention)
    bump_memory_version(entity.pk)
    elapsed = one("Which language does the quokka use?")
    Memory.objects.filter(pk=probe.obj.pk).delete()
    bump_memory_version(entity.pk)
    one("warm up again")
    return elapsed


def recall_with_handoffs(tenant, entity, one, queries: list[str]) -> list[float]:
    """Warm recalls while four other agents' memories of the last minutes are in the handoff window
    (3 each, unrelated to the queries, so they join as handoffs). They are removed again afterwards."""
    from django.utils import timezone

    from memory.models import Memory, Process
    from memory.services.embedding_store import bump_memory_version
    from memory.services.storing import Mention, memory_mention

    probes = []
    for name in ("research_agent", "billing_agent", "support_agent", "reviewer"):
        mention = Mention(process=Process.objects.get(tenant=tenant, external_id=name), mentioned_at=timezone.now())
        for number in range(3):
            content = f"Handoff probe {number} of {name}: the wombat squad ships on Fridays"
            probes.append(memory_mention(entity=entity, kind="fact", content=content, mention=mention).obj.pk)
    bump_memory_version(entity.pk)
    one("warm up")
    samples = [one(query) for query in queries]
    Memory.objects.filter(pk__in=probes).delete()
    bump_memory_version(entity.pk)
    one("warm up again")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200, help="warm recalls per size")
    parser.add_argument("--cold", type=int, default=5, help="cold recalls per size")
    args = parser.parse_args()
    setup_django()

    from django.db import connection

    from memory.models import Tenant

    tenant, _ = Tenant.objects.get_or_create(name=TENANT)
    print(f"database: {connection.vendor}, load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        entity, seconds = populate(tenant, size)
        if seconds:
            print(f"  inserted {size} memories with embeddings in {seconds:.1f} s")
        load_before = os.getloadavg()[0]
        result = run_size(tenant, entity, args.queries, args.cold)
        result["load"] = (load_before, os.getloadavg()[0])
        rows.append((size, result))
    print(
        f"\n{'memories':>9} | {'warm p50':>8} {'p95':>7} {'p99':>7} | {'handoffs p50':>12} {'p95':>7} |"
        f" {'write+recall p50':>16} | {'cold p50':>8} | {'embed':>6} {'search':>6} {'fetch':>6} | {'cache MB':>8} |"
        f" {'load':>9}"
    )
    print("-" * 135)
    for size, r in rows:
        print(
            f"{size:>9} | {r['warm'][0]:>8.1f} {r['warm'][1]:>7.1f} {r['warm'][2]:>7.1f} |"
            f" {r['handoff'][0]:>12.1f} {r['handoff'][1]:>7.1f} |"
            f" {r['after_write'][0]:>16.1f} | {r['cold'][0]:>8.1f} |"
            f" {r['split'][0]:>6.2f} {r['split'][1]:>6.2f} {r['split'][2]:>6.2f} | {r['cache_mb']:>8.1f} |"
            f" {r['load'][0]:>4.1f}-{r['load'][1]:<4.1f}"
        )
    print(
        "(ms. warm: cached index; handoffs: warm, with 12 memories of 4 other agents in the handoff window;"
        " write+recall: first recall after a new memory (incremental refresh);"
        " cold: cache cleared (full load). embed/search/fetch: medians of the warm recalls' recorded split;"
        " cache MB: traced by tracemalloc while building the index; load: 1-minute load average before-after)"
    )


if __name__ == "__main__":
    main()
