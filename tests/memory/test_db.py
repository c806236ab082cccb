"""memory/db: the statements the ORM cannot say in one go, on the configured database (the suite
runs on SQLite and again on PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F

from memory import db
from memory.models import AugmentationJob, Entity, Node, Predicate, Provenance, Triple
from tests.support.exchanges import record

pytestmark = pytest.mark.django_db

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks: SQLite writes one transaction at a time"
)


def _queued(tenant, count: int) -> list[int]:
    return [record(tenant, user=f"fact: job {n}").job.pk for n in range(count)]


def test_update_returning_changes_the_matching_rows_and_returns_exactly_their_ids(tenant):
    first, second, third = _queued(tenant, 3)
    AugmentationJob.objects.filter(pk=third).update(status="done")

    changed = db.update_returning(
        AugmentationJob.objects.filter(status="queued"), status="running", attempts=F("attempts") + 1
    )

    assert sorted(changed) == [first, second]
    jobs = dict(AugmentationJob.objects.values_list("pk", "status"))
    assert jobs == {first: "running", second: "running", third: "done"}
    assert AugmentationJob.objects.get(pk=first).attempts == 1
    assert db.update_returning(AugmentationJob.objects.filter(status="queued"), status="running") == []


def test_update_returning_takes_a_limited_ordered_subquery(tenant):
    ids = _queued(tenant, 5)
    oldest = AugmentationJob.objects.filter(status="queued").order_by("queued_at", "pk").values("pk")[:2]

    changed = db.update_returning(AugmentationJob.objects.filter(pk__in=oldest), status="running")

    assert sorted(changed) == ids[:2]


@ON_POSTGRESQL
@pytest.mark.django_db(transaction=True)
def test_update_returning_skips_rows_another_transaction_locked(tenant):
    locked, free = _queued(tenant, 2)
    holding, release = threading.Event(), threading.Event()

    def hold_lock():
        try:
            with transaction.atomic():
                list(AugmentationJob.objects.select_for_update().filter(pk=locked))
                holding.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert holding.wait(10)
        unlocked = AugmentationJob.objects.filter(status="queued").select_for_update(skip_locked=True).values("pk")
        changed = db.update_returning(AugmentationJob.objects.filter(pk__in=unlocked), status="running")
    finally:
        release.set()
        holder.join()

    assert changed == [free]
    assert AugmentationJob.objects.get(pk=locked).status == "queued"


def test_insert_ignore_counts_what_it_inserted_and_skips_conflicts(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    Node.objects.create(entity=entity, name="API", normalized_name="api")
    nodes = [Node(entity=entity, name=name, normalized_name=name.lower()) for name in ("API", "JWT", "jwt", "Redis")]

    inserted = db.insert_ignore(nodes)

    assert inserted == 2  # "api" was stored, the second "jwt" repeats the first
    assert sorted(Node.objects.values_list("normalized_name", "node_type")) == [
        ("api", "concept"),  # the default of a field the instances did not set
        ("jwt", "concept"),
        ("redis", "concept"),
    ]
    assert db.insert_ignore(nodes) == 0
    assert db.insert_ignore([]) == 0


def test_insert_ignore_counts_across_more_rows_than_one_statement_takes(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    count = 1200  # SQLite takes 999 parameters a statement: 249 nodes
    Node.objects.create(entity=entity, name="n0", normalized_name="n0")

    inserted = db.insert_ignore([Node(entity=entity, name=f"n{n}", normalized_name=f"n{n}") for n in range(count)])

    assert inserted == count - 1
    assert Node.objects.count() == count


def test_insert_ignore_skips_only_uniqueness_conflicts(tenant):
    job = record(tenant, user="fact: one").job
    neither = Provenance(entity_id=job.entity_id, process_id=job.process_id, job=job)  # memory or triple: CHECK

    with pytest.raises(IntegrityError), transaction.atomic():
        db.insert_ignore([neither])

    assert not Provenance.objects.exists()


def test_insert_ignore_writes_what_the_orm_would(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    predicate = Predicate.objects.create(name="uses")
    when = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    subject, obj = (Node.objects.create(entity=entity, name=n, normalized_name=n.lower()) for n in ("API", "JWT"))
    row = Triple(
        entity=entity,
        subject=subject,
        predicate=predicate,
        object=obj,
        content="API uses JWT",
        embedding=b"\x00\x01\xff",
        first_seen_at=when,
        last_seen_at=when,
    )

    assert db.insert_ignore([row]) == 1

    stored = Triple.objects.get()
    assert (stored.content, bytes(stored.embedding), stored.first_seen_at, stored.mention_count) == (
        "API uses JWT",
        b"\x00\x01\xff",
        when,
        1,  # the model's default
    )


def test_insert_rows_ignore_writes_plain_values_and_defaults_like_the_orm(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    predicate = Predicate.objects.create(name="uses")
    when = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    subject, obj, other = (
        Node.objects.create(entity=entity, name=n, normalized_name=n.lower()) for n in ("API", "JWT", "OAuth")
    )
    columns = ["entity_id", "subject_id", "predicate_id", "object_id", "content", "embedding", "first_seen_at"]
    rows = [
        (entity.pk, subject.pk, predicate.pk, obj.pk, "API uses JWT", b"\x00\x01\xff", when),
        (entity.pk, subject.pk, predicate.pk, other.pk, "API uses OAuth", None, when),
    ]

    assert db.insert_rows_ignore(Triple, columns, rows) == 2
    assert db.insert_rows_ignore(Triple, columns, rows) == 0  # both are stored: skipped, counted out

    stored = Triple.objects.order_by("content")
    assert [(t.content, t.embedding and bytes(t.embedding), t.first_seen_at, t.mention_count) for t in stored] == [
        ("API uses JWT", b"\x00\x01\xff", when, 1),  # mention_count: the model's default
        ("API uses OAuth", None, when, 1),
    ]
    assert db.insert_rows_ignore(Triple, columns, []) == 0


def test_insert_rows_ignore_skips_only_uniqueness_conflicts_and_takes_attribute_names(tenant):
    job = record(tenant, user="fact: one").job
    columns = ["entity_id", "process_id", "job_id"]

    with pytest.raises(IntegrityError), transaction.atomic():  # memory or triple: CHECK
        db.insert_rows_ignore(Provenance, columns, [(job.entity_id, job.process_id, job.pk)] * 2)
    with pytest.raises(ValueError, match="attribute names"):
        db.insert_rows_ignore(Provenance, ["entity", "process_id"], [(job.entity_id, job.process_id)])

    assert not Provenance.objects.exists()


def test_update_rows_sets_each_row_its_own_values(tenant):
    first, second, untouched = _queued(tenant, 3)
    when = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)

    updated = db.update_rows(
        AugmentationJob,
        {second: ("done", when, {"memories_created": 2, "note": "é"}), first: ("failed", None, {})},
        fields=["status", "finished_at", "result"],
    )

    assert updated == 2
    rows = {
        pk: (status, at, result)
        for pk, status, at, result in AugmentationJob.objects.values_list("pk", "status", "finished_at", "result")
    }
    assert rows[second] == ("done", when, {"memories_created": 2, "note": "é"})
    assert rows[first] == ("failed", None, {})
    assert rows[untouched] == ("queued", None, {})
    assert db.update_rows(AugmentationJob, {}, fields=["status"]) == 0


def test_update_rows_adds_to_counters_and_only_raises_times(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    predicate = Predicate.objects.create(name="uses")
    early, late = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)
    nodes = [Node.objects.create(entity=entity, name=f"n{n}", normalized_name=f"n{n}") for n in range(3)]
    triples = [
        Triple.objects.create(
            entity=entity, subject=nodes[0], predicate=predicate, object=nodes[n], content=f"t{n}", last_seen_at=late
        )
        for n in (1, 2)
    ]

    db.update_rows(
        Triple,
        {triples[0].pk: (2, early), triples[1].pk: (1, late + timedelta(hours=1))},
        fields=["mention_count", "last_seen_at"],
        how={"mention_count": db.ADD, "last_seen_at": db.GREATEST},
    )

    stored = dict(Triple.objects.values_list("content", "mention_count"))
    assert stored == {"t1": 3, "t2": 2}
    assert Triple.objects.get(content="t1").last_seen_at == late  # an earlier time does not move it back
    assert Triple.objects.get(content="t2").last_seen_at == late + timedelta(hours=1)


def test_update_rows_takes_more_rows_than_one_statement(tenant):
    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    db.insert_ignore([Node(entity=entity, name=f"n{n}", normalized_name=f"n{n}") for n in range(1100)])
    ids = list(Node.objects.values_list("pk", flat=True))

    updated = db.update_rows(Node, {pk: (f"type {pk % 3}",) for pk in ids}, fields=["node_type"])

    assert updated == 1100
    assert Node.objects.filter(node_type="type 1").count() == len([pk for pk in ids if pk % 3 == 1])


@pytest.mark.django_db(transaction=True)
def test_commit_without_waiting_for_disk_lasts_one_transaction(tenant):
    def synchronous_commit():
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    with transaction.atomic():
        db.commit_without_waiting_for_disk()
        Predicate.objects.create(name="uses")
        inside = synchronous_commit() if connection.vendor == "postgresql" else "off"

    outside = synchronous_commit() if connection.vendor == "postgresql" else "on"
    assert (inside, outside) == ("off", "on")
    assert Predicate.objects.filter(name="uses").exists()  # committed all the same


def test_database_answers_on_the_configured_database():
    assert db.database_answers() is True


def test_database_answers_no_when_it_cannot_connect(tmp_path):
    unreachable = dict(connections["default"].settings_dict)
    if connection.vendor == "postgresql":
        unreachable.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
    else:
        unreachable.update(NAME=str(tmp_path / "no such directory" / "memori.sqlite3"))
    connections.settings["unreachable"] = unreachable
    try:
        assert db.database_answers("unreachable") is False
    finally:
        connections["unreachable"].close()
        del connections["unreachable"]
        del connections.settings["unreachable"]
