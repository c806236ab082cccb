"""Handoff thread benchmark: the thread page's server time for one entity with 100,000 calls.

Bulk-creates once (into the database named by DATABASE_URL; default a SQLite file under
var/bench-thread/) an entity worked on by 12 processes: 100,000 calls (exchanges with a user and
an assistant message and a finished augmentation job), each with its recall event and 4 recalled
memories whose provenance points to the calls that produced them; 3% of the calls were served
another agent's pending exchange raw, some recalled memories are superseded and some contradicted.
Then renders the thread's pages with Django's test client as a tenant member and prints the
median and worst server time of a few runs and the number of queries. Re-runs reuse the data;
--rebuild starts over.

    .venv/bin/python bench/thread.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_bench_thread .venv/bin/python bench/thread.py
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import random
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MEMORI_VAR_DIR", str(ROOT / "var" / "bench-thread"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")

# The dashboard bench's bulk helpers (it sets Django up on import, with the environment above).
_spec = importlib.util.spec_from_file_location("bench_dashboard", Path(__file__).with_name("dashboard.py"))
bench_dashboard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_dashboard)

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from dashboard.queries.gaps import find_handoff_gaps  # noqa: E402
from dashboard.queries.thread import GAP_BATCH, GAP_SEARCH_LIMIT  # noqa: E402
from dashboard.queries.thread_filters import Cursor  # noqa: E402
from memory.models import (  # noqa: E402
    AugmentationJob,
    Contradiction,
    Conversation,
    Entity,
    Exchange,
    Memory,
    Message,
    Process,
    Provenance,
    RecallEvent,
    RecallHit,
    Session,
    Tenant,
)

TENANT = "bench-thread"
ENTITY = "thread_big"
PROCESSES = [f"agent_{i:02d}" for i in range(12)]
CALLS = 100_000
CALLS_PER_SESSION = 50
MEMORIES = 20_000
HITS_PER_CALL = 4
PENDING_SHARE = 0.03
DAYS = 60
bulk, sentence = bench_dashboard.bulk, bench_dashboard.sentence


def build(rng: random.Random) -> None:
    started = time.perf_counter()
    start = timezone.now() - timedelta(days=DAYS)
    step = timedelta(seconds=DAYS * 86400 / CALLS)
    tenant = Tenant.objects.create(name=TENANT)
    user = get_user_model().objects.create_user(username="bench-thread", password="bench-pass-1", is_staff=True)
    tenant.members.add(user)
    processes = Process.objects.bulk_create([Process(tenant=tenant, external_id=name) for name in PROCESSES])
    entity = Entity.objects.create(tenant=tenant, external_id=ENTITY)
    sessions = Session.objects.bulk_create(
        [
            Session(entity=entity, process=processes[i % len(processes)], uuid=uuid.uuid4(), started_at=start)
            for i in range(CALLS // CALLS_PER_SESSION)
        ]
    )
    conversations = Conversation.objects.bulk_create(
        [Conversation(session=s, entity=entity, process_id=s.process_id, started_at=start) for s in sessions]
    )
    calls: list[Exchange] = []
    for index in range(CALLS):
        # Sessions interleave: call i belongs to session (i % sessions) so every process speaks all along.
        session_index = index % len(sessions)
        occurred = start + step * index
        calls.append(
            Exchange(
                conversation=conversations[session_index],
                entity=entity,
                process_id=sessions[session_index].process_id,
                session=sessions[session_index],
                model="gpt-4o-mini",
                occurred_at=occurred,
                recorded_at=occurred,
            )
        )
    with transaction.atomic():
        calls = Exchange.objects.bulk_create(calls, batch_size=bench_dashboard.BATCH)
        _messages_and_jobs(calls, rng)
    print(f"  calls: {len(calls):,} ({time.perf_counter() - started:.0f} s)", flush=True)
    memories = _memories(entity, calls, rng)
    print(f"  memories: {len(memories):,} ({time.perf_counter() - started:.0f} s)", flush=True)
    _recalls(entity, calls, memories, rng)
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)


def _messages_and_jobs(calls: list[Exchange], rng: random.Random) -> None:
    messages, jobs, positions = [], [], {}
    for call in calls:
        position = positions.get(call.conversation_id, 0)
        positions[call.conversation_id] = position + 2
        for offset, role in enumerate(("user", "assistant")):
            messages.append(
                Message(
                    conversation_id=call.conversation_id,
                    exchange=call,
                    position=position + offset,
                    role=role,
                    content=sentence(rng, call.pk if role == "user" else -call.pk),
                    created_at=call.occurred_at,
                )
            )
        finished = call.occurred_at + timedelta(seconds=2)
        jobs.append(
            AugmentationJob(
                exchange=call,
                entity_id=call.entity_id,
                process_id=call.process_id,
                status="done",
                attempts=1,
                queued_at=call.occurred_at,
                started_at=call.occurred_at,
                finished_at=finished,
            )
        )
        if len(messages) >= bench_dashboard.BATCH * 4:
            bulk(Message, messages)
            bulk(AugmentationJob, jobs)
    bulk(Message, messages)
    bulk(AugmentationJob, jobs)


def _memories(entity: Entity, calls: list[Exchange], rng: random.Random) -> list[Memory]:
    """Each memory produced by one call (its provenance); 2% superseded, 200 pairs contradicted."""
    rows = []
    for index in range(MEMORIES):
        producer = calls[index * (CALLS // MEMORIES)]
        content = sentence(rng, index)
        rows.append(
            Memory(
                entity=entity,
                kind="fact",
                content=content,
                normalized=content.lower(),
                content_hash=hashlib.sha256(content.encode()).hexdigest(),
                first_process_id=producer.process_id,
                first_seen_at=producer.occurred_at,
                last_seen_at=producer.occurred_at,
                valid_from=producer.occurred_at,
            )
        )
    with transaction.atomic():
        memories = Memory.objects.bulk_create(rows, batch_size=bench_dashboard.BATCH)
        Provenance.objects.bulk_create(
            [
                Provenance(
                    entity=entity,
                    memory=memory,
                    process_id=memory.first_process_id,
                    session_id=calls[index * (CALLS // MEMORIES)].session_id,
                    exchange=calls[index * (CALLS // MEMORIES)],
                    mentioned_at=memory.first_seen_at,
                )
                for index, memory in enumerate(memories)
            ],
            batch_size=bench_dashboard.BATCH,
        )
        for stale, current in zip(memories[::50], memories[25::50], strict=False):
            stale.valid_to, stale.superseded_by = current.first_seen_at, current
        Memory.objects.bulk_update(memories[::50], ["valid_to", "superseded_by"], batch_size=bench_dashboard.BATCH)
        pairs = list(zip(memories[1:400:2], memories[2:401:2], strict=False))
        Contradiction.objects.bulk_create(
            [Contradiction(entity=entity, reason="extractor", memory_a=a, memory_b=b) for a, b in pairs]
        )
        Memory.objects.filter(pk__in=[m.pk for pair in pairs for m in pair]).update(is_contradicted=True)
    return memories


def _recalls(entity: Entity, calls: list[Exchange], memories: list[Memory], rng: random.Random) -> None:
    """A recall event per call with HITS_PER_CALL memories already said by then, as the SDK records it."""
    names = dict(Process.objects.filter(tenant=entity.tenant).values_list("pk", "external_id"))
    per_call = CALLS // MEMORIES
    for first in range(0, len(calls), bench_dashboard.BATCH):
        batch = calls[first : first + bench_dashboard.BATCH]
        events = []
        for offset, call in enumerate(batch):
            # The call just before, of another session (and so, mostly, another process), served raw.
            pending = [calls[max(0, first + offset - 1)].pk] if rng.random() < PENDING_SHARE else []
            events.append(
                RecallEvent(
                    entity=entity,
                    process_id=call.process_id,
                    session_id=call.session_id,
                    query=sentence(rng, call.pk),
                    latency_ms=rng.uniform(5, 60),
                    token_count=300,
                    pending_job_ids=[],
                    pending_context_served=bool(pending),
                    pending_exchange_ids=pending,
                    injected_block="<memori_context>\n...\n</memori_context>",
                    created_at=call.occurred_at,
                )
            )
        with transaction.atomic():
            events = RecallEvent.objects.bulk_create(events, batch_size=bench_dashboard.BATCH)
            hits = []
            for offset, (call, event) in enumerate(zip(batch, events, strict=True)):
                said = max(1, (first + offset) // per_call)
                for rank, memory in enumerate(rng.sample(memories[:said], min(HITS_PER_CALL, said)), start=1):
                    hits.append(
                        RecallHit(
                            event=event,
                            rank=rank,
                            memory=memory,
                            kind="fact",
                            content=memory.content,
                            fused_score=1 / rank,
                            contributing_processes=[names[memory.first_process_id]],
                        )
                    )
                call.recall_event = event
            bulk(RecallHit, hits)
            Exchange.objects.bulk_update(batch, ["recall_event"], batch_size=bench_dashboard.BATCH)
        print(f"    recalls: {first + len(batch):,}", flush=True)


def pages(entity: Entity) -> list[tuple[str, str]]:
    url = reverse("dashboard:thread", args=[entity.pk])
    calls = Exchange.objects.filter(entity=entity).order_by("occurred_at", "pk")
    middle = calls.values("pk", "occurred_at")[CALLS // 2]
    early = calls.values("occurred_at")[CALLS // 10]["occurred_at"]
    before = Cursor(middle["occurred_at"], middle["pk"])
    day = (early + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    return [
        ("thread: latest page", url),
        ("thread: earlier page from the middle (before=)", f"{url}?before={before}"),
        ("thread: deep link to a call in the middle (?call=)", f"{url}?call={middle['pk']}"),
        ("thread: one process of 12", f"{url}?process={PROCESSES[5]}"),
        ("thread: a day, 50 days ago", f"{url}?from={early:%Y-%m-%dT%H:%M:%S}&to={day}"),
        ("thread: marker pending", f"{url}?marker=pending"),
        ("thread: marker superseded", f"{url}?marker=superseded"),
        ("thread: marker contradiction", f"{url}?marker=contradiction"),
        ("thread: marker gap (bounded search)", f"{url}?marker=gap"),
        ("thread: live poll, nothing new", "live"),
    ]


def measure(runs: int) -> None:
    entity = Entity.objects.get(tenant__name=TENANT, external_id=ENTITY)
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-thread"))
    live = reverse("dashboard:thread_live", args=[entity.pk])
    version = client.get(live).json()["version"]
    print(f"\nload average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"\n{'page':56} {'median ms':>10} {'max ms':>8} {'cpu ms':>8} {'queries':>8}")
    for name, url in pages(entity):
        url = f"{live}?since={version}" if url == "live" else url
        response = client.get(url)  # warm connections and code paths once
        assert response.status_code == 200, (name, response.status_code)
        timings, cpu, queries = [], [], 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started, started_cpu = time.perf_counter(), time.process_time()
                client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
            queries = len(captured)
        calls = response.content.count(b'class="thread-call')
        bench_dashboard._print_row(f"{name} [{calls} calls]", timings, cpu, queries)
    _measure_gap_batch(entity, runs)


def _measure_gap_batch(entity: Entity, runs: int) -> None:
    """The gap filter's worst case is judging GAP_SEARCH_LIMIT calls that have no gap: its cost per batch."""
    events = list(RecallEvent.objects.filter(entity=entity).select_related("process").order_by("-pk")[:GAP_BATCH])
    timings, cpu = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started, started_cpu = time.perf_counter(), time.process_time()
            find_handoff_gaps(events)
            timings.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    name = f"gap judgement of {GAP_BATCH} calls (at most {GAP_SEARCH_LIMIT // GAP_BATCH} a request)"
    bench_dashboard._print_row(name, timings, cpu, len(captured))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop the bench tenant and create the data again")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    built = Exchange.objects.filter(entity__tenant__name=TENANT).count() == CALLS
    if args.rebuild or not built:
        Tenant.objects.filter(name=TENANT).delete()
        get_user_model().objects.filter(username="bench-thread").delete()
        print(f"creating {CALLS:,} calls of {len(PROCESSES)} processes on one entity…", flush=True)
        bench_dashboard.fast_sqlite_writes()
        build(random.Random(7))
        bench_dashboard.analyze()
    print(f"calls: {Exchange.objects.filter(entity__tenant__name=TENANT).count():,}")
    measure(args.runs)


if __name__ == "__main__":
    main()
