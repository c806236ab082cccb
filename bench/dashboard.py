"""Dashboard benchmark: server time of every page with 100,000 memories and 1,000,000 messages.

Bulk-creates the data once (bulk_create, a few minutes on SQLite) into the database named by
DATABASE_URL (default: a SQLite file under var/bench-dashboard/), then renders each page with
Django's test client as a tenant member and prints the median and worst server time of a few
runs, and the number of queries. Re-runs reuse the data; --rebuild starts over. Rows marked
"cold" clear the cache (graph layouts) before each run. The overview's exchanges come from their
hourly counts (memory/models/activity.py), which the bulk load fills the way the migration does for
existing data. Rows marked "fresh process" time the first request of a new Python process (its
first database connection, URL and template loading included); --fresh measures every page that way.
The figures are the same with DEBUG off (DEBUG=0 MEMORI_HTTPS=0 SECRET_KEY=x ALLOWED_HOSTS=testserver); the
bench captures queries either way.

    .venv/bin/python bench/dashboard.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_bench_dashboard .venv/bin/python bench/dashboard.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MEMORI_VAR_DIR", str(ROOT / "var" / "bench-dashboard"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import get_resolver, reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from memory.models import (  # noqa: E402
    AugmentationJob,
    Contradiction,
    Conversation,
    Entity,
    Exchange,
    Memory,
    Message,
    Node,
    Predicate,
    Process,
    Provenance,
    RecallEvent,
    RecallHit,
    Session,
    Tenant,
    Triple,
)
from memory.services.activity_counts import hourly_exchanges_backfill  # noqa: E402

TENANT = "bench"
PROCESSES = ["research_agent", "analysis_agent", "triage_agent", "billing_agent", "technical_agent", "qa_agent"]
ENTITIES = 50
MEMORIES = 100_000
BIG_ENTITY_MEMORIES = 20_000
BIG_ENTITY_TRIPLES = 5_000
MESSAGES = 1_000_000  # two per exchange
SESSIONS_PER_ENTITY = 200
RECALL_EVENTS = 50_000
HITS_PER_EVENT = 5
DAYS = 90
BATCH = 5_000
WORDS = (
    "customer account billing refund invoice card visa login password email reset deploy kubernetes postgres "
    "vector search memory agent research market pricing competitor analysis review jwt bcrypt notification"
).split()


def sentence(rng: random.Random, index: int) -> str:
    return f"{' '.join(rng.choice(WORDS) for _ in range(7)).capitalize()} number {index}."


def bulk(model, rows: list) -> None:
    model.objects.bulk_create(rows, batch_size=BATCH)
    rows.clear()


def fast_sqlite_writes() -> None:
    """A big page cache and no fsync while loading: SQLite's 2 MB default cache thrashes on these indexes."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size = -1000000")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA temp_store = MEMORY")


def build(rng: random.Random) -> None:
    """Everything in bulk, in dependency order; times spread over the last DAYS days."""
    started = time.perf_counter()
    now = timezone.now()
    tenant = Tenant.objects.create(name=TENANT)
    user = get_user_model().objects.create_user(username="bench", password="bench-pass-1", is_staff=True)
    tenant.members.add(user)
    processes = Process.objects.bulk_create([Process(tenant=tenant, external_id=name) for name in PROCESSES])
    entities = Entity.objects.bulk_create(
        [Entity(tenant=tenant, external_id="bench_big" if i == 0 else f"entity_{i:03d}") for i in range(ENTITIES)]
    )

    def when() -> timezone.datetime:
        return now - timedelta(seconds=rng.uniform(0, DAYS * 86400))

    # Sessions, conversations, exchanges, messages, jobs.
    sessions = Session.objects.bulk_create(
        [
            Session(entity=entity, process=rng.choice(processes), uuid=uuid.uuid4(), started_at=when())
            for entity in entities
            for _ in range(SESSIONS_PER_ENTITY)
        ],
        batch_size=BATCH,
    )
    per_session = MESSAGES // 2 // len(sessions)
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                session=s,
                entity_id=s.entity_id,
                process_id=s.process_id,
                started_at=s.started_at,
                message_count=per_session * 2,
            )
            for s in sessions
        ],
        batch_size=BATCH,
    )
    print(f"  sessions: {len(sessions)} ({time.perf_counter() - started:.0f} s)", flush=True)
    exchange_rows, message_rows, job_rows, total = [], [], [], 0
    for session, conversation in zip(sessions, conversations, strict=True):
        for turn in range(per_session):
            occurred = session.started_at + timedelta(minutes=turn)
            exchange_rows.append(
                Exchange(
                    conversation=conversation,
                    entity_id=session.entity_id,
                    process_id=session.process_id,
                    session=session,
                    model="gpt-4o-mini",
                    latency_ms=rng.uniform(300, 2000),
                    occurred_at=occurred,
                    recorded_at=occurred,
                )
            )
        if len(exchange_rows) >= BATCH * 4:
            total += _flush_exchanges(exchange_rows, message_rows, job_rows, rng)
    total += _flush_exchanges(exchange_rows, message_rows, job_rows, rng)
    print(f"  exchanges: {total}, messages: {total * 2} ({time.perf_counter() - started:.0f} s)", flush=True)

    # Memories with provenance; the big entity gets its share plus the 5,000-triple graph.
    memory_rows, provenance_rows = [], []
    shares = [BIG_ENTITY_MEMORIES] + [(MEMORIES - BIG_ENTITY_MEMORIES) // (ENTITIES - 1)] * (ENTITIES - 1)
    index = 0
    for entity, share in zip(entities, shares, strict=True):
        for _ in range(share):
            content = sentence(rng, index)
            seen = when()
            kind = rng.choice(["fact", "fact", "fact", "preference", "skill"])
            memory_rows.append(
                Memory(
                    entity=entity,
                    kind=kind,
                    content=content,
                    normalized=content.lower(),
                    content_hash=hashlib.sha256(content.encode()).hexdigest(),
                    first_process=rng.choice(processes),
                    first_seen_at=seen,
                    last_seen_at=seen,
                    mention_count=rng.randint(1, 5),
                )
            )
            index += 1
        if len(memory_rows) >= BATCH * 4:
            _flush_memories(memory_rows, provenance_rows)
    _flush_memories(memory_rows, provenance_rows)
    print(f"  hourly exchange counts: {hourly_exchanges_backfill()} rows", flush=True)
    print(f"  memories: {Memory.objects.count()} ({time.perf_counter() - started:.0f} s)", flush=True)
    _build_graph(entities[0], processes, rng, when)
    _build_recalls(entities, processes, rng, when)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def analyze() -> None:
    """Planner statistics for the fresh rows, as PostgreSQL's autovacuum would gather them soon after
    a load (without them it guesses one row per table and picks nested loops over 500,000 rows)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def _flush_exchanges(exchange_rows: list, message_rows: list, job_rows: list, rng: random.Random) -> int:
    with transaction.atomic():
        created = Exchange.objects.bulk_create(exchange_rows, batch_size=BATCH)
        positions: dict[int, int] = {}
        for exchange in created:
            position = positions.get(exchange.conversation_id, 0)
            positions[exchange.conversation_id] = position + 2
            message_rows.append(
                Message(
                    conversation_id=exchange.conversation_id,
                    exchange=exchange,
                    position=position,
                    role="user",
                    content=sentence(rng, exchange.pk),
                    created_at=exchange.occurred_at,
                )
            )
            message_rows.append(
                Message(
                    conversation_id=exchange.conversation_id,
                    exchange=exchange,
                    position=position + 1,
                    role="assistant",
                    content=sentence(rng, -exchange.pk),
                    created_at=exchange.occurred_at,
                )
            )
            status = "done" if rng.random() > 0.002 else "failed"
            job_rows.append(
                AugmentationJob(
                    exchange=exchange,
                    entity_id=exchange.entity_id,
                    process_id=exchange.process_id,
                    status=status,
                    attempts=1,
                    queued_at=exchange.occurred_at,
                    started_at=exchange.occurred_at,
                    finished_at=exchange.occurred_at + timedelta(seconds=2),
                )
            )
        bulk(Message, message_rows)
        bulk(AugmentationJob, job_rows)
    count = len(exchange_rows)
    exchange_rows.clear()
    return count


def _flush_memories(memory_rows: list, provenance_rows: list) -> None:
    with transaction.atomic():
        for memory in Memory.objects.bulk_create(memory_rows, batch_size=BATCH):
            provenance_rows.append(
                Provenance(
                    entity_id=memory.entity_id,
                    memory=memory,
                    process_id=memory.first_process_id,
                    mentioned_at=memory.first_seen_at,
                    source="bench",
                )
            )
        bulk(Provenance, provenance_rows)
    memory_rows.clear()


def _build_graph(entity: Entity, processes: list, rng: random.Random, when) -> None:
    predicates = [
        Predicate.objects.get_or_create(name=name)[0]
        for name in ("uses", "depends_on", "competes_with", "located_in", "prefers", "owns", "reported", "supports")
    ]
    nodes = Node.objects.bulk_create(
        [
            Node(
                entity=entity,
                name=f"Node {i}",
                normalized_name=f"node {i}",
                node_type=rng.choice(["concept", "org", "person"]),
            )
            for i in range(1500)
        ]
    )
    seen, triples = set(), []
    while len(triples) < BIG_ENTITY_TRIPLES:
        subject, obj, predicate = rng.choice(nodes), rng.choice(nodes), rng.choice(predicates)
        if subject == obj or (subject.pk, predicate.pk, obj.pk) in seen:
            continue
        seen.add((subject.pk, predicate.pk, obj.pk))
        at = when()
        triples.append(
            Triple(
                entity=entity,
                subject=subject,
                predicate=predicate,
                object=obj,
                content=f"{subject.name} {predicate.name} {obj.name}",
                first_process=rng.choice(processes),
                mention_count=rng.randint(1, 20),
                first_seen_at=at,
                last_seen_at=at,
            )
        )
    created = Triple.objects.bulk_create(triples, batch_size=BATCH)
    Provenance.objects.bulk_create(
        [
            Provenance(
                entity=entity, triple=t, process_id=t.first_process_id, mentioned_at=t.first_seen_at, source="bench"
            )
            for t in created
        ],
        batch_size=BATCH,
    )
    memories = list(Memory.objects.filter(entity=entity).values_list("pk", flat=True)[:400])
    Contradiction.objects.bulk_create(
        [
            Contradiction(entity=entity, reason="extractor", memory_a_id=a, memory_b_id=b)
            for a, b in zip(memories[::2], memories[1::2], strict=False)
        ]
    )


def _build_recalls(entities: list, processes: list, rng: random.Random, when) -> None:
    memory_ids: dict[int, list[int]] = {}
    for entity in entities:
        memory_ids[entity.pk] = list(Memory.objects.filter(entity=entity).values_list("pk", flat=True)[:500])
    events = []
    for _ in range(RECALL_EVENTS):
        entity = rng.choice(entities)
        pending = [rng.randint(1, 1000)] if rng.random() < 0.05 else []
        events.append(
            RecallEvent(
                entity=entity,
                process=rng.choice(processes),
                query=" ".join(rng.sample(WORDS, 4)),
                latency_ms=rng.uniform(5, 60),
                token_count=300,
                pending_job_ids=pending,
                pending_context_served=bool(pending),
                created_at=when(),
            )
        )
    events = RecallEvent.objects.bulk_create(events, batch_size=BATCH)
    hits = []
    for event in events:
        for rank, memory_id in enumerate(rng.sample(memory_ids[event.entity_id], HITS_PER_EVENT), start=1):
            hits.append(
                RecallHit(
                    event=event,
                    rank=rank,
                    memory_id=memory_id,
                    kind="fact",
                    content="bench hit",
                    fused_score=1 / rank,
                    dense_score=0.5,
                    lexical_score=1.0,
                    contributing_processes=[rng.choice(PROCESSES)],
                )
            )
        if len(hits) >= BATCH * 4:
            bulk(RecallHit, hits)
    bulk(RecallHit, hits)
    # Link some calls to their recall, as the SDK does.
    for event in events[:2000]:
        Exchange.objects.filter(pk=rng.randint(1, MESSAGES // 2)).update(recall_event=event)


def pages(tenant: Tenant) -> list[tuple[str, str, bool]]:
    """(name, url, clear the cache before each run)."""
    big = Entity.objects.get(tenant=tenant, external_id="bench_big")
    session = Session.objects.filter(entity=big).order_by("-last_activity_at").first()
    memory = Memory.objects.filter(entity=big, recall_hits__isnull=False).first()
    node = Triple.objects.filter(entity=big).order_by("-mention_count").values_list("subject_id", flat=True).first()
    return [
        ("overview (7 days)", reverse("dashboard:overview", args=[tenant.pk]), False),
        ("overview (90 days)", reverse("dashboard:overview", args=[tenant.pk]) + "?days=90", False),
        ("overview live poll", reverse("dashboard:overview_live", args=[tenant.pk]), False),
        ("entity list (activity)", reverse("dashboard:entities", args=[tenant.pk]), False),
        ("entity list (by memories)", reverse("dashboard:entities", args=[tenant.pk]) + "?sort=memories", False),
        ("entity summary (landing page)", reverse("dashboard:entity", args=[big.pk]), False),
        ("graph explorer (5,000 triples, cold)", reverse("dashboard:graph", args=[big.pk]), True),
        ("graph explorer (cached layout)", reverse("dashboard:graph", args=[big.pk]), False),
        (
            "graph explorer (process filter, cold)",
            reverse("dashboard:graph", args=[big.pk]) + "?process=qa_agent",
            True,
        ),
        ("graph node panel", reverse("dashboard:graph_node", args=[big.pk, node]), False),
        ("process view", reverse("dashboard:processes", args=[big.pk]), False),
        ("timeline (90 days)", reverse("dashboard:timeline", args=[big.pk]) + "?days=90", False),
        ("timeline as of", reverse("dashboard:timeline", args=[big.pk]) + "?days=90&as_of=2099-01-01T00:00", False),
        ("session list", reverse("dashboard:sessions", args=[big.pk]), False),
        ("session detail", reverse("dashboard:session", args=[session.pk]), False),
        ("handoff gaps", reverse("dashboard:gaps", args=[big.pk]), False),
        ("contradictions", reverse("dashboard:contradictions", args=[big.pk]), False),
        ("memory detail", reverse("dashboard:memory", args=[memory.pk]), False),
    ]


def first_request(url: str) -> None:
    """Run by measure_fresh in a new process: log in, time one request, print the figures as JSON.
    The URLconf (every view module: DRF, NumPy, ~300 ms) is imported first and timed apart: Django
    imports it on a process's first request, whatever the page, unless the server loads it at start."""
    started = time.perf_counter()
    get_resolver().url_patterns  # noqa: B018 - the import is the point
    urlconf = (time.perf_counter() - started) * 1000
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    with CaptureQueriesContext(connection) as captured:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall, cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
    figures = {"status": response.status_code, "wall": wall, "cpu": cpu, "queries": len(captured), "urlconf": urlconf}
    print(json.dumps(figures))


def measure_fresh(name: str, url: str, runs: int) -> list[float]:
    """The page's figures, printed; returns the URLconf import times of the processes."""
    timings, cpu, queries, urlconf = [], [], 0, []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, __file__, "--first-request", url], capture_output=True, text=True, check=True
        )
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        assert figures["status"] == 200, (name, figures)
        timings.append(figures["wall"])
        cpu.append(figures["cpu"])
        urlconf.append(figures["urlconf"])
        queries = figures["queries"]
    _print_row(name, timings, cpu, queries)
    return urlconf


def _print_row(name: str, timings: list[float], cpu: list[float], queries: int) -> None:
    flag = "" if statistics.median(timings) < 300 else "  > 300 ms"
    print(
        f"{name:56} {statistics.median(timings):10.1f} {max(timings):8.1f} {statistics.median(cpu):8.1f} "
        f"{queries:8d}{flag}",
        flush=True,
    )


def measure(runs: int, *, fresh: bool) -> None:
    tenant = Tenant.objects.get(name=TENANT)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    # Wall time is what a user waits; CPU time (this process: Django + in-process SQLite) is what the
    # page costs, and stays comparable when other work shares the machine.
    print(f"\nload average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\n{'page':56} {'median ms':>10} {'max ms':>8} {'cpu ms':>8} {'queries':>8}")
    overview_90 = reverse("dashboard:overview", args=[tenant.pk]) + "?days=90"
    urlconf = measure_fresh("overview (90 days, fresh process)", overview_90, runs)
    if fresh:
        for name, url, _ in pages(tenant):
            urlconf += measure_fresh(f"{name} [new process]", url, runs)
    print(f"{'  + URLconf import on a process first request, not above':56} {statistics.median(urlconf):10.1f}")
    if fresh:
        return
    for name, url, cold in pages(tenant):
        client.get(url)  # warm connections and code paths once
        timings, cpu, queries = [], [], 0
        for _ in range(runs):
            if cold:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries = len(captured)
            assert response.status_code == 200, (name, response.status_code)
        _print_row(name, timings, cpu, queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop the bench tenant and create the data again")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--fresh", action="store_true", help="every page as the first request of a new process")
    parser.add_argument("--first-request", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_request:
        first_request(args.first_request)
        return
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    if args.rebuild or not Message.objects.filter(conversation__entity__tenant__name=TENANT)[:1].exists():
        # Only the bench tenant's rows go: DATABASE_URL may name a database that holds other data.
        Tenant.objects.filter(name=TENANT).delete()
        get_user_model().objects.filter(username="bench").delete()
    if not Tenant.objects.filter(name=TENANT).exists():
        print("creating 100,000 memories and 1,000,000 messages…", flush=True)
        fast_sqlite_writes()
        build(random.Random(42))
        analyze()
    print(
        f"memories: {Memory.objects.count():,}  messages: {Message.objects.count():,}  "
        f"triples: {Triple.objects.count():,}  recall events: {RecallEvent.objects.count():,}"
    )
    measure(args.runs, fresh=args.fresh)


if __name__ == "__main__":
    main()
