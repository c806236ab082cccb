"""Recall: what an agent gets back for a query, from the entity's shared memory.

Memories are written the way the product writes them (services/storing.py `memory_mention`, then the
entity's memory version bumped, as every memory write does) and recalled through
`recall_for_call`, the function behind the REST API, the SDK and the dashboard's playground.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from memory.embedding import count_tokens, from_bytes, get_embedder
from memory.models import AugmentationJob, Entity, Memory, Process, RecallEvent, RecallHit, Tenant
from memory.recall.text import tokenize
from memory.services.embedding_store import bump_memory_version
from memory.services.identity import InvalidIdentifier
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.storing import Mention, memory_mention

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

SUPPORT_NOTES = [
    "The customer prefers to be contacted by email, never by phone",
    "Premium plan renews on the first day of each month",
    "The mobile app crashes when uploading photos larger than 20 MB",
    "Support tickets are answered within four business hours",
    "The account owner is based in Lisbon, Portugal",
    "Two-factor authentication is enabled on the admin account",
    "The team uses Slack for internal escalation",
    "Invoices are sent as PDF attachments",
]


AN_HOUR_AGO = timedelta(hours=1)  # older than the handoff window: recalled for relevance only


def remember(
    tenant: Tenant, entity_id: str, content: str, *, process_id: str = "research_agent", kind="fact", ago=timedelta(0)
):
    entity, _ = Entity.objects.get_or_create(tenant=tenant, external_id=entity_id)
    process, _ = Process.objects.get_or_create(tenant=tenant, external_id=process_id)
    mention = Mention(process=process, mentioned_at=timezone.now() - ago)
    upserted = memory_mention(entity=entity, kind=kind, content=content, mention=mention)
    bump_memory_version(entity.pk)
    return upserted.obj


def recall(tenant: Tenant, entity_id: str, query: str, *, process_id: str = "analysis_agent", **options):
    return recall_for_call(
        RecallRequest(tenant=tenant, entity_id=entity_id, process_id=process_id, query=query, **options)
    )


def contents(result) -> list[str]:
    return [item.content for item in result.items]


def test_an_agent_recalls_what_another_agent_stored_for_the_entity(tenant):
    stored = remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")
    for note in SUPPORT_NOTES:
        remember(tenant, "project_alpha", note)

    result = recall(tenant, "project_alpha", "Which database does the project use?")

    assert result.items[0].content == "The project uses PostgreSQL 16 as its main database"
    assert result.items[0].processes == ["research_agent"]
    assert result.block.startswith("<memori_context>") and result.block.endswith("</memori_context>")
    said = f"{stored.first_seen_at.day} {stored.first_seen_at:%B %Y}"
    assert f"- [{said}] The project uses PostgreSQL 16 as its main database [research_agent]" in result.block
    assert result.token_count == count_tokens(result.block)


def test_it_never_returns_another_entitys_or_another_tenants_memory(tenant, other_tenant):
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")
    remember(tenant, "project_beta", "Project beta uses MySQL as its database")
    remember(other_tenant, "project_alpha", "Globex's project alpha uses Oracle as its database")

    result = recall(tenant, "project_alpha", "database", limit=20)

    assert contents(result) == ["The project uses PostgreSQL 16 as its main database"]
    other = recall(other_tenant, "project_alpha", "database")
    assert contents(other) == ["Globex's project alpha uses Oracle as its database"]


def test_attributes_are_recalled_only_by_the_process_that_owns_them(tenant):
    remember(tenant, "customer_1", "I handle refunds up to 500 euros", process_id="billing_agent", kind="attribute")
    remember(tenant, "customer_1", "The customer asked for a refund of 120 euros", process_id="billing_agent")

    billing = recall(tenant, "customer_1", "refund limit", process_id="billing_agent")
    support = recall(tenant, "customer_1", "refund limit", process_id="support_agent")

    assert "I handle refunds up to 500 euros" in contents(billing)
    assert "## Your attributes" in billing.block
    assert contents(support) == ["The customer asked for a refund of 120 euros"]
    assert "500 euros" not in support.block


def _dense_rank(query: str, target: str, corpus: list[str]) -> int:
    vectors = get_embedder().embed([query, *corpus])
    order = np.argsort(-(vectors[1:] @ vectors[0])).tolist()
    return order.index(corpus.index(target))


VERSION_AND_CUSTOMER_NOTES = [
    "Django is pinned to version 5.2",
    "NumPy is pinned to version 1.26",
    "The Python version in production is 3.11",
    "Node is pinned to version 20 LTS",
    "Pin the Postgres driver to psycopg 3.3",
    "Dependency versions are pinned in requirements.txt",
    "Renovate opens version bump pull requests weekly",
    "Celery is pinned to version 5.4",
    "Redis server version 7.2 is required",
    "Customer customer_123 asked for an invoice copy",
    "Customer customer_789 upgraded to the premium plan",
    "Customer customer_455 reported a login bug",
    "Customer customer_465 reported an outage",
    "Customer customer_446 reported an outage twice",
]


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("which bcrypt version is pinned?", "The Alpine build broke last Tuesday until we stopped upgrading bcrypt"),
        ("what did customer_456 report?", "Ticket escalated for customer_456 after the third outage report"),
    ],
)
def test_an_exact_term_finds_a_memory_the_embedding_alone_misses(tenant, query, target):
    corpus = [target, *VERSION_AND_CUSTOMER_NOTES]
    for text in corpus:
        remember(tenant, "project_alpha", text)
    assert _dense_rank(query, target, corpus) >= 3, "precondition: the embedding alone misses it in its top 3"

    result = recall(tenant, "project_alpha", query, limit=3)

    assert target in contents(result)


def test_a_paraphrase_finds_a_memory_that_shares_no_word_with_the_query(tenant):
    target = "The customer was charged twice on their card"
    for text in [target, *SUPPORT_NOTES]:
        remember(tenant, "customer_1", text, process_id="billing_agent")
    query = "I was billed two times"
    assert not set(tokenize(query)) & set(tokenize(target))

    result = recall(tenant, "customer_1", query, process_id="support_agent", limit=3)

    assert contents(result)[0] == target
    assert result.items[0].lexical_score == 0 and result.items[0].dense_score > 0.5


def test_near_duplicates_never_fill_the_budget(tenant):
    duplicates = [
        "The customer was charged twice on their card",
        "The customer was charged twice on their credit card",
        "Customer got charged twice on the card",
        "The customer has been charged twice on their card",
    ]
    for text in duplicates:
        remember(tenant, "customer_1", text, process_id="billing_agent")
    remember(tenant, "customer_1", "A refund for the double charge was approved", process_id="billing_agent")

    result = recall(tenant, "customer_1", "customer charged twice on the card, refund?", limit=5)

    recalled = contents(result)
    assert len([text for text in recalled if text in duplicates]) == 1
    assert "A refund for the double charge was approved" in recalled


def test_the_block_stays_within_the_token_budget(tenant):
    for number in range(40):
        remember(tenant, "project_alpha", f"Deployment note {number}: the API service runs on port {8000 + number}")

    small = recall(tenant, "project_alpha", "Which port does the API service run on?", token_budget=80, limit=40)
    large = recall(tenant, "project_alpha", "Which port does the API service run on?", token_budget=600, limit=40)
    nothing = recall(tenant, "project_alpha", "Which port does the API service run on?", token_budget=0)

    assert 0 < small.token_count <= 80
    assert count_tokens(small.block) == small.token_count
    assert small.token_count < large.token_count <= 600
    assert len(small.items) < len(large.items)
    assert all(item.content in small.block for item in small.items)
    assert (nothing.block, nothing.items, nothing.token_count) == ("", [], 0)


@pytest.mark.parametrize("budget", [80, 200, 700, 5000])
def test_the_blocks_token_count_is_exactly_the_count_of_its_text(budget):
    """render() adds up its parts' cached counts instead of tokenizing the whole block again."""
    from memory.recall import block as blocks

    texts = [
        "The café in Zürich 😀 serves 寿司 and Ελληνικά",
        "runs on port=8003;",
        "ends with punctuation!",
        "naïve co-operation — “quotes” and a\u0301ccents",
        "tab\tinside, \u200bzero width, ﬁ ligature, １２３ fullwidth",
        "x" * 2500,
    ]
    sections = (blocks.SECTION_MEMORIES, blocks.SECTION_ATTRIBUTES, blocks.SECTION_GRAPH)
    memory_lines = [
        blocks.Line(section=section, text=blocks.memory_line("skill", text, ["coder", "reviewer"]))
        for text in texts
        for section in sections
    ]
    pending_lines = [
        blocks.Line(section=blocks.SECTION_PENDING, text=blocks.pending_line("billing", "2026-11-25 10:00 UTC", text))
        for text in texts
    ]

    block = blocks.render(memory_lines, pending_lines, budget)

    assert block.token_count == count_tokens(block.text) <= budget
    assert block.memory_lines > 0


def test_limit_caps_the_number_of_items(tenant):
    for number in range(10):
        remember(tenant, "project_alpha", f"Deployment note {number}: the API service runs on port {8000 + number}")

    result = recall(tenant, "project_alpha", "API service port", limit=4)

    assert len(result.items) == 4


def test_a_new_memory_is_recalled_at_once_by_a_warm_cache(tenant):
    for note in SUPPORT_NOTES:
        remember(tenant, "project_alpha", note)
    assert "Redis" not in recall(tenant, "project_alpha", "Which cache does the API use?").block

    remember(tenant, "project_alpha", "The API caches sessions in Redis", process_id="coder")

    assert "The API caches sessions in Redis" in contents(
        recall(tenant, "project_alpha", "Which cache does the API use?")
    )


def test_an_unknown_entity_gets_an_empty_result_and_nothing_is_created(tenant):
    result = recall(tenant, "nobody", "anything at all")

    assert (result.items, result.pending, result.history, result.block, result.event_id) == ([], [], [], "", None)
    assert not Entity.objects.filter(external_id="nobody").exists()


@pytest.mark.parametrize("field", ["entity_id", "process_id", "session_id"])
def test_it_rejects_unusable_identifiers(tenant, field):
    values = {"entity_id": "project_alpha", "process_id": "coder", "session_id": None, field: "  "}
    if field == "session_id":
        values["session_id"] = "not-a-uuid"
    with pytest.raises(InvalidIdentifier):
        recall_for_call(RecallRequest(tenant=tenant, query="x", **values))


def test_a_query_about_nothing_known_returns_nothing(tenant):
    for note in SUPPORT_NOTES:
        remember(tenant, "project_alpha", note, ago=AN_HOUR_AGO)  # not a handoff (test_recall_handoff.py)

    result = recall(tenant, "project_alpha", "quantum chromodynamics lattice gauge")

    assert result.items == [] and result.block == ""


def test_each_recall_is_stored_with_its_hits_and_counts_usage(tenant):
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database", process_id="coder")
    remember(tenant, "project_alpha", "Backups of the database run nightly at 02:00", process_id="ops_agent")

    result = recall(tenant, "project_alpha", "database backups")

    event = RecallEvent.objects.get(pk=result.event_id)
    assert (event.entity.external_id, event.process.external_id, event.query) == (
        "project_alpha",
        "analysis_agent",
        "database backups",
    )
    assert event.token_count == result.token_count and event.injected_block == result.block
    assert event.latency_ms >= event.embed_ms + event.search_ms
    hits = list(RecallHit.objects.filter(event=event))
    assert [hit.content for hit in hits] == contents(result)
    assert [hit.rank for hit in hits] == list(range(1, len(hits) + 1))
    postgres = next(hit for hit in hits if "PostgreSQL" in hit.content)
    assert postgres.contributing_processes == ["research_agent", "coder"]
    assert postgres.fused_score > 0 and postgres.dense_score is not None and postgres.lexical_score is not None
    memory = Memory.objects.get(pk=postgres.memory_id)
    assert memory.recall_count == 1 and memory.last_recalled_at is not None


def test_a_recalled_triple_and_an_empty_recall_are_stored_too(tenant):
    from memory.models import Triple
    from memory.services.storing import triple_mention

    entity = Entity.objects.create(tenant=tenant, external_id="project_alpha")
    process = Process.objects.create(tenant=tenant, external_id="coder")
    mention = Mention(process=process, mentioned_at=timezone.now() - AN_HOUR_AGO)
    triple_mention(entity=entity, subject="payment service", predicate="depends_on", obj="Stripe", mention=mention)
    memory_mention(
        entity=entity, kind="fact", content="The payment service retries Stripe calls twice", mention=mention
    )
    bump_memory_version(entity.pk)

    found = recall(tenant, "project_alpha", "What does the payment service depend on? Stripe")
    nothing = recall(tenant, "project_alpha", "quantum chromodynamics lattice gauge")

    hits = list(RecallHit.objects.filter(event_id=found.event_id).order_by("rank"))
    assert [(hit.kind, hit.content, hit.contributing_processes) for hit in hits] == [
        (item.kind, item.content, item.processes) for item in found.items
    ]
    triple_hit = next(hit for hit in hits if hit.kind == "triple")
    assert triple_hit.triple_id and triple_hit.memory_id is None and triple_hit.contributing_processes == ["coder"]
    triple = Triple.objects.get(pk=triple_hit.triple_id)
    assert triple.recall_count == 1 and triple.last_recalled_at == RecallEvent.objects.get(pk=found.event_id).created_at
    assert Memory.objects.get().recall_count == 1
    empty = RecallEvent.objects.get(pk=nothing.event_id)
    assert (empty.query, empty.token_count, empty.pending_job_ids, empty.hits.count()) == (
        "quantum chromodynamics lattice gauge",
        0,
        [],
        0,
    )


def test_recall_without_recording_stores_nothing(tenant):
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")

    result = recall(tenant, "project_alpha", "database", record_event=False)

    assert result.event_id is None and result.items
    assert not RecallEvent.objects.exists()
    assert Memory.objects.get().recall_count == 0


def record(tenant: Tenant, entity_id: str, process_id: str, *turns: tuple[str, str], session_id=None):
    messages = [MessageInput(role=role, content=content) for role, content in turns]
    return record_exchange(
        tenant=tenant,
        data=ExchangeInput(entity_id=entity_id, process_id=process_id, messages=messages, session_id=session_id),
    )


def test_another_agents_unprocessed_work_is_served_as_pending_context(tenant):
    remember(tenant, "customer_1", "The customer prefers email", process_id="support_agent")
    recorded = record(
        tenant,
        "customer_1",
        "billing_agent",
        ("system", "You are the billing agent."),
        ("user", "Refund the double charge on order 8812"),
        ("assistant", "Refund of 49 euros issued for order 8812; card credited in 3-5 days."),
    )
    assert recorded.job.status == "queued"  # no worker runs in this test

    result = recall(tenant, "customer_1", "what happened with the refund?", process_id="support_agent")

    assert [(p.exchange_id, p.process_id) for p in result.pending] == [(recorded.exchange.pk, "billing_agent")]
    assert "Refund of 49 euros issued for order 8812" in result.pending[0].text
    assert "You are the billing agent" not in result.pending[0].text
    assert "## Recent work from other agents, not yet processed into memory" in result.block
    assert "[billing_agent, " in result.block and "order 8812" in result.block
    assert result.pending_job_ids == [recorded.job.pk]
    event = RecallEvent.objects.get(pk=result.event_id)
    assert event.pending_context_served is True
    assert (event.pending_job_ids, event.pending_exchange_ids) == ([recorded.job.pk], [recorded.exchange.pk])


def test_a_process_is_not_served_its_own_pending_work(tenant):
    recorded = record(tenant, "customer_1", "billing_agent", ("user", "Refund the double charge on order 8812"))

    result = recall(tenant, "customer_1", "refund", process_id="billing_agent")

    assert result.pending == [] and "order 8812" not in result.block
    assert result.pending_job_ids == [recorded.job.pk]
    assert RecallEvent.objects.get(pk=result.event_id).pending_context_served is False


def test_pending_work_stops_being_served_once_augmented(tenant):
    recorded = record(tenant, "customer_1", "billing_agent", ("user", "Refund the double charge on order 8812"))
    AugmentationJob.objects.filter(pk=recorded.job.pk).update(status="done")

    assert recall(tenant, "customer_1", "refund", process_id="support_agent").pending == []


def test_pending_context_can_be_left_out(tenant):
    record(tenant, "customer_1", "billing_agent", ("user", "Refund the double charge on order 8812"))

    result = recall(tenant, "customer_1", "refund", process_id="support_agent", include_pending=False)

    assert result.pending == [] and result.block == ""


def test_history_is_this_sessions_prior_messages_oldest_first(tenant):
    session = uuid.uuid4()
    record(tenant, "project_alpha", "coder", ("user", "Add a login page"), ("assistant", "Done."), session_id=session)
    record(tenant, "project_alpha", "coder", ("user", "Now add tests"), ("assistant", "Added."), session_id=session)
    record(tenant, "project_alpha", "coder", ("user", "Another session"), session_id=uuid.uuid4())
    record(tenant, "project_alpha", "reviewer", ("user", "Review it"), session_id=session)

    result = recall(tenant, "project_alpha", "tests", process_id="coder", session_id=str(session))

    assert result.history == [
        {"role": "user", "content": "Add a login page"},
        {"role": "assistant", "content": "Done."},
        {"role": "user", "content": "Now add tests"},
        {"role": "assistant", "content": "Added."},
    ]
    assert recall(tenant, "project_alpha", "tests", process_id="coder").history == []


def test_a_recall_runs_a_bounded_number_of_queries(tenant, django_assert_max_num_queries):
    session = uuid.uuid4()
    for number in range(30):
        remember(tenant, "project_alpha", f"Service {number} stores its data in database shard {number}")
    record(tenant, "project_alpha", "coder", ("user", "Moved shard 3"), session_id=session)
    record(tenant, "project_alpha", "ops_agent", ("user", "Resized database shard 7"))
    recall(tenant, "project_alpha", "database shard", process_id="coder")  # warm the cache

    with django_assert_max_num_queries(11):  # 9 statements, plus the recall event's savepoint and release
        result = recall(tenant, "project_alpha", "database shard", process_id="coder", session_id=str(session))

    assert len(result.items) >= 10 and result.pending and result.history


def test_a_warm_recall_with_nothing_pending_reads_the_database_twice(tenant, django_assert_max_num_queries):
    for number in range(30):
        remember(tenant, "project_alpha", f"Service {number} stores its data in database shard {number}")
    recall(tenant, "project_alpha", "database shard", process_id="coder")  # warm the cache

    # The entity (with caller, session and "anything pending?") and the hits' provenance; then the
    # recall event, its hits and the usage counters, in one transaction (savepoint and release here;
    # one statement on PostgreSQL).
    with django_assert_max_num_queries(7):
        result = recall(tenant, "project_alpha", "database shard", process_id="coder")

    assert len(result.items) >= 10 and result.event_id


def test_a_job_finishing_while_recall_runs_leaves_no_gap(tenant):
    """The entity is read while the billing agent's job is pending; the job finishes (its memory
    stored, the version bumped, the job done, in one transaction) before recall reads the pending
    jobs. The memory must then be recalled, since the raw exchange is no longer served."""
    remember(tenant, "customer_1", "The customer prefers email", process_id="support_agent")
    recorded = record(tenant, "customer_1", "billing_agent", ("user", "Refund the double charge on order 8812"))
    recall(tenant, "customer_1", "refund", process_id="support_agent")  # warm the cache
    finished = []

    def finish_the_job_after_the_entity_is_read(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if not finished and '"memory_entity"' in sql and sql.lstrip().startswith("SELECT"):
            finished.append(True)
            remember(tenant, "customer_1", "A refund of 49 euros for order 8812 was issued", process_id="billing_agent")
            AugmentationJob.objects.filter(pk=recorded.job.pk).update(status="done")
        return result

    with connection.execute_wrapper(finish_the_job_after_the_entity_is_read):
        result = recall(tenant, "customer_1", "refund for order 8812", process_id="support_agent")

    assert finished and result.pending == []
    assert "A refund of 49 euros for order 8812 was issued" in contents(result)


@pytest.mark.django_db(transaction=True)
def test_a_memory_written_by_another_os_process_is_recalled_at_once(tenant):
    for note in SUPPORT_NOTES:
        remember(tenant, "project_alpha", note)
    assert "Redis" not in recall(tenant, "project_alpha", "Which cache does the API use?").block  # cache warm

    script = (
        "from django.utils import timezone\n"
        "from memory.models import Entity, Process\n"
        "from memory.services.embedding_store import bump_memory_version\n"
        "from memory.services.storing import Mention, memory_mention\n"
        f"entity = Entity.objects.get(tenant_id={tenant.pk}, external_id='project_alpha')\n"
        "process, _ = Process.objects.get_or_create(tenant=entity.tenant, external_id='worker_agent')\n"
        "memory_mention(entity=entity, kind='fact', content='The API caches sessions in Redis',\n"
        "              mention=Mention(process=process, mentioned_at=timezone.now()))\n"
        "bump_memory_version(entity.pk)\n"
    )
    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "DEBUG": "1"}
    subprocess.run([sys.executable, "manage.py", "shell", "-c", script], cwd=ROOT, env=env, check=True, timeout=120)

    result = recall(tenant, "project_alpha", "Which cache does the API use?")

    assert "The API caches sessions in Redis" in contents(result)
    assert next(i for i in result.items if "Redis" in i.content).processes == ["worker_agent"]


def _database_url(settings_dict: dict) -> str:
    """The URL of the database this test runs against (the test database, not the default one)."""
    if "sqlite" in settings_dict["ENGINE"]:
        return f"sqlite:///{settings_dict['NAME']}"
    auth = quote(settings_dict["USER"] or "")
    if settings_dict.get("PASSWORD"):
        auth += ":" + quote(settings_dict["PASSWORD"])
    host = f"{settings_dict.get('HOST') or '127.0.0.1'}:{settings_dict.get('PORT') or 5432}"
    return f"postgres://{auth}@{host}/{settings_dict['NAME']}"


def test_reembed_rewrites_vectors_with_the_current_embedder_and_refreshes_recall(tenant):
    memory = remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")
    Memory.objects.filter(pk=memory.pk).update(embedding=None, embedding_model="old-embedder")
    version = Entity.objects.get(external_id="project_alpha").memory_version

    call_command("reembed", stdout=io.StringIO(), stderr=io.StringIO())

    memory.refresh_from_db()
    assert memory.embedding_model == get_embedder().name
    assert np.allclose(
        from_bytes(memory.embedding, get_embedder().dimensions), get_embedder().embed([memory.content])[0]
    )
    assert Entity.objects.get(external_id="project_alpha").memory_version == version + 1
    assert recall(tenant, "project_alpha", "Which database does the project use?").items[0].dense_score > 0.5


def test_an_index_refreshed_with_new_rows_equals_one_built_from_scratch(tenant):
    from memory.recall.index import IndexKey, build_entity_index, refresh_entity_index

    for note in SUPPORT_NOTES[:5]:
        remember(tenant, "project_alpha", note)
    entity = Entity.objects.get(external_id="project_alpha")
    old = build_entity_index(IndexKey(entity.pk, entity.created_at, entity.memory_version, get_embedder().name))
    for note in [*SUPPORT_NOTES[5:], "Invoices for customer_4521 are sent as PDF attachments"]:
        remember(tenant, "project_alpha", note, process_id="billing_agent")
    entity.refresh_from_db()
    key = IndexKey(entity.pk, entity.created_at, entity.memory_version, get_embedder().name)

    refreshed, fresh = refresh_entity_index(old, key), build_entity_index(key)

    assert refreshed.size == fresh.size == len(SUPPORT_NOTES) + 1
    mine, theirs = np.argsort(refreshed.ids), np.argsort(fresh.ids)  # the database's row order may differ
    assert np.array_equal(refreshed.ids[mine], fresh.ids[theirs])
    assert [refreshed.contents[row] for row in mine] == [fresh.contents[row] for row in theirs]
    assert np.array_equal(refreshed.vectors.vectors(mine), fresh.vectors.vectors(theirs))
    for query in ("invoices PDF", "customer_4521", "customer contacted by email", "nothing known here"):
        assert np.allclose(refreshed.lexical.scores(query)[mine], fresh.lexical.scores(query)[theirs], rtol=1e-6)
        assert refreshed.lexical.best_possible(query) == pytest.approx(fresh.lexical.best_possible(query))


def test_appending_vectors_never_changes_an_index_already_made():
    from memory.recall.vector import NumpyVectorIndex

    rng = np.random.default_rng(0)
    base = NumpyVectorIndex(rng.standard_normal((40, 8)).astype(np.float32))
    first, second = rng.standard_normal((3, 8)).astype(np.float32), rng.standard_normal((5, 8)).astype(np.float32)
    before = base.vectors(np.arange(40)).copy()

    appended = base.appended(first)  # into the spare rows
    again = base.appended(second)  # from the same index: must not overwrite `appended`'s rows
    longer = appended.appended(second)

    assert np.array_equal(base.vectors(np.arange(40)), before)
    assert np.array_equal(appended.vectors(np.arange(43)), np.concatenate([before, first]))
    assert np.array_equal(again.vectors(np.arange(45)), np.concatenate([before, second]))
    assert np.array_equal(longer.vectors(np.arange(48)), np.concatenate([before, first, second]))
    query = rng.standard_normal(8).astype(np.float32)
    assert base.search(query, 100, None)[0].size == 40 and longer.search(query, 100, None)[0].size == 48


def test_a_warm_cache_sees_an_edited_and_a_deleted_memory_at_once(tenant):
    from memory.services.audit import Actor
    from memory.services.editing import memory_delete, memory_update

    for note in SUPPORT_NOTES:
        remember(tenant, "project_alpha", note)
    edited = remember(tenant, "project_alpha", "The API caches sessions in Memcached")
    deleted = remember(tenant, "project_alpha", "The API stores uploads on local disk")
    assert "Memcached" in recall(tenant, "project_alpha", "Which cache does the API use?").block  # cache warm

    admin = Actor(label="admin")
    memory_update(memory=edited, actor=admin, content="The API caches sessions in Redis")
    memory_delete(memory=deleted, actor=admin)

    cache = recall(tenant, "project_alpha", "Which cache does the API use?")
    uploads = recall(tenant, "project_alpha", "Where does the API store uploads?")
    assert "The API caches sessions in Redis" in contents(cache) and "Memcached" not in cache.block
    assert "local disk" not in uploads.block


def test_many_writes_between_recalls_are_all_seen(tenant):
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database")
    recall(tenant, "project_alpha", "database")  # cache warm
    for number in range(12):
        remember(tenant, "project_alpha", f"Service {number} stores its data in database shard {number}")
    remember(tenant, "project_alpha", "The project uses PostgreSQL 16 as its main database", process_id="coder")

    result = recall(tenant, "project_alpha", "database shard 7", limit=20)

    assert "Service 7 stores its data in database shard 7" == contents(result)[0]
    assert len([text for text in contents(result) if "shard" in text]) == 12
