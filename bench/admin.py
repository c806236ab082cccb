"""Admin benchmark: server time of the memory admin's lists inside a tenant, at scale.

Bulk-creates two tenants once (bulk_create) into the database named by DATABASE_URL (default: a
SQLite file under var/bench-admin/): the measured one with 50,000 memories (two mentions each, by
12 processes, a tenth superseded), 20,000 triples on one-value predicates (a third of them with a
later value), 5,000 audit entries; the other tenant half as much. Then renders each list with
Django's test client as a staff member of the first tenant (not a superuser) and as a superuser,
and prints the median and worst server time of a few runs and the number of queries. Re-runs reuse
the data; --rebuild starts over.

    .venv/bin/python bench/admin.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/memori_bench_admin .venv/bin/python bench/admin.py
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("MEMORI_VAR_DIR", str(ROOT / "var" / "bench-admin"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Permission  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from memory.models import AuditEntry, Entity, Memory, Node, Predicate, Process, Provenance, Tenant, Triple  # noqa: E402

MEASURED, OTHER = "bench_admin", "bench_admin_other"
PROCESSES = 12
ENTITIES = 20
MEMORIES = 50_000
TRIPLES = 20_000
AUDIT_ENTRIES = 5_000
BATCH = 5_000
RUNS = 5


def _bulk(model, rows: list) -> list:
    return model.objects.bulk_create(rows, batch_size=BATCH)


def build_tenant(name: str, scale: float, rng: random.Random) -> None:
    now = timezone.now()
    tenant = Tenant.objects.create(name=name)
    processes = _bulk(Process, [Process(tenant=tenant, external_id=f"{name}_agent_{i:02d}") for i in range(PROCESSES)])
    entities = _bulk(Entity, [Entity(tenant=tenant, external_id=f"{name}_entity_{i:03d}") for i in range(ENTITIES)])
    memories = _bulk(
        Memory,
        [
            Memory(
                entity=entities[i % ENTITIES],
                kind="fact",
                content=f"{name} fact number {i} about customer {i % 997}",
                normalized=f"{name} fact number {i}",
                content_hash=f"{name}-{i}",
                first_process=processes[i % PROCESSES],
                valid_from=now - timedelta(days=30, seconds=i),
                first_seen_at=now - timedelta(days=30, seconds=i),
                last_seen_at=now - timedelta(seconds=i),
            )
            for i in range(int(MEMORIES * scale))
        ],
    )
    superseded = [m for i, m in enumerate(memories) if i % 10 == 0 and i + 1 < len(memories)]
    for memory in superseded:
        memory.valid_to, memory.superseded_by_id = now - timedelta(days=1), memory.pk + 1
    Memory.objects.bulk_update(superseded, ["valid_to", "superseded_by"], batch_size=BATCH)
    _bulk(
        Provenance,
        [
            Provenance(entity_id=m.entity_id, memory=m, process=processes[(m.pk + k) % PROCESSES], mentioned_at=now)
            for m in memories
            for k in (0, 5)
        ],
    )
    predicates = [Predicate.objects.get_or_create(name=p)[0] for p in ("lives_in", "works_at", "has_status")]
    triples = []
    for entity in entities:
        nodes = _bulk(
            Node, [Node(entity=entity, name=f"Node {i}", normalized_name=f"node {i}") for i in range(int(300 * scale))]
        )
        for i in range(int(TRIPLES * scale) // ENTITIES):
            subject, predicate = nodes[i % (len(nodes) // 3)], predicates[i % 3]
            at = now - timedelta(days=rng.uniform(0, 60))
            triples.append(
                Triple(
                    entity=entity,
                    subject=subject,
                    predicate=predicate,
                    object=nodes[len(nodes) // 3 + i % (2 * len(nodes) // 3)],
                    content=f"{subject.name} {predicate.name} #{i}",
                    first_process=processes[i % PROCESSES],
                    first_seen_at=at,
                    last_seen_at=at,
                )
            )
    triples = Triple.objects.bulk_create(triples, batch_size=BATCH, ignore_conflicts=True)
    triples = list(Triple.objects.filter(entity__tenant=tenant))
    _bulk(
        Provenance,
        [
            Provenance(entity_id=t.entity_id, triple=t, process_id=t.first_process_id, mentioned_at=t.first_seen_at)
            for t in triples
        ],
    )
    _bulk(
        AuditEntry,
        [
            AuditEntry(
                tenant=tenant,
                entity_id=memories[i].entity_id,
                actor_label=f"user:{name}_ops",
                action="update",
                object_type="memory",
                object_id=memories[i].pk,
                before={"content": memories[i].content},
                after={"content": memories[i].content + " (edited)"},
            )
            for i in range(int(AUDIT_ENTRIES * scale))
        ],
    )


def build() -> None:
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    rng = random.Random(15)
    with transaction.atomic():
        build_tenant(MEASURED, 1.0, rng)
        build_tenant(OTHER, 0.5, rng)
        member = get_user_model().objects.create_user("bench_admin_member", password="x", is_staff=True)
        member.user_permissions.set(Permission.objects.filter(content_type__app_label="memory"))
        Tenant.objects.get(name=MEASURED).members.add(member)
        get_user_model().objects.create_superuser("bench_admin_root", "root@example.com", "x")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # as autovacuum would soon after a load: plans without stats are not the point
    print(f"built in {time.perf_counter() - started:.0f} s")


def measure(client: Client, url: str) -> tuple[float, float, int]:
    times, queries = [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(captured)
    return statistics.median(times), max(times), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="drop the bench tenants and build them again")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.rebuild:
        Tenant.objects.filter(name__in=[MEASURED, OTHER]).delete()
        get_user_model().objects.filter(username__startswith="bench_admin_").delete()
    if not Tenant.objects.filter(name=MEASURED).exists():
        build()
    process = Process.objects.get(external_id=f"{MEASURED}_agent_03")
    memories, triples = reverse("admin:memory_memory_changelist"), reverse("admin:memory_triple_changelist")
    first_memory = Memory.objects.filter(entity__tenant__name=MEASURED).order_by("pk")[0]
    pages = [
        ("memories", memories),
        ("memories by contributing process", f"{memories}?contributor={process.pk}"),
        ("memories superseded", f"{memories}?validity=superseded"),
        ("memories current", f"{memories}?validity=current"),
        ("triples", triples),
        ("triples superseded", f"{triples}?validity=superseded"),
        ("triples current", f"{triples}?validity=current"),
        ("triples by contributing process", f"{triples}?contributor={process.pk}"),
        ("audit log", reverse("admin:memory_auditentry_changelist")),
        ("memory page with its trail", reverse("admin:memory_memory_change", args=[first_memory.pk])),
    ]
    print(
        f"{connection.vendor}: {Memory.objects.count()} memories, {Triple.objects.count()} triples, "
        f"{AuditEntry.objects.count()} audit entries in 2 tenants"
    )
    for who in ("bench_admin_member", "bench_admin_root"):
        client = Client()
        client.force_login(get_user_model().objects.get(username=who))
        client.get(memories)  # warm up: templates, URL resolver
        print(f"\n{who}: {'page':40} {'median ms':>10} {'worst ms':>10} {'queries':>8}")
        for name, url in pages:
            median, worst, queries = measure(client, url)
            print(f"{'':{len(who) + 2}}{name:40} {median:10.0f} {worst:10.0f} {queries:8d}")


if __name__ == "__main__":
    main()
