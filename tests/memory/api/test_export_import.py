"""Export of one entity's whole memory and import of that file: the round trip loses nothing."""

from __future__ import annotations

import json

from django.utils import timezone

from memory.models import AugmentationJob, Contradiction, Entity, Episode, Exchange, Memory, Process, Provenance
from memory.services.augmentation import job_augment
from memory.services.storing import Mention, memory_mention, triple_mention
from tests.memory.api.conftest import assert_error, record, remember


def _augment_by_hand(exchange_id: int) -> None:
    """What the worker does, written directly: a memory and a triple credited to the exchange's job."""
    exchange = Exchange.objects.select_related("augmentation_job", "entity", "process").get(pk=exchange_id)
    message = exchange.messages.order_by("position").first()
    mention = Mention(
        process=exchange.process,
        mentioned_at=timezone.now(),
        session_id=exchange.session_id,
        exchange_id=exchange.pk,
        message_id=message.pk,
        job_id=exchange.augmentation_job.pk,
    )
    first = memory_mention(entity=exchange.entity, kind="fact", content="Billing runs on PostgreSQL.", mention=mention)
    second = memory_mention(entity=exchange.entity, kind="fact", content="Billing runs on MySQL.", mention=mention)
    triple_mention(entity=exchange.entity, subject="billing", predicate="uses", obj="PostgreSQL", mention=mention)
    Contradiction.objects.create(entity=exchange.entity, reason="extractor", memory_a=first.obj, memory_b=second.obj)
    Memory.objects.filter(pk=first.obj.pk).update(valid_to=timezone.now(), superseded_by=second.obj)
    Memory.objects.filter(pk=second.obj.pk).update(
        claim_subject="billing", claim_attribute="runs_on", claim_value="MySQL", claim_value_type="name"
    )
    AugmentationJob.objects.filter(pk=exchange.augmentation_job.pk).update(status="done", finished_at=timezone.now())


def _without_volatile(document: dict) -> dict:
    """Refs are the exporting database's ids, and exported_at is the time of export."""
    text = json.dumps({key: value for key, value in document.items() if key != "exported_at"}, sort_keys=True)
    refs = ("ref", "exchange_ref", "message_ref", "job_exchange_ref", "memory_a_ref", "memory_b_ref")
    for key in (*refs, "superseded_by_ref"):
        text = _strip_numbers(text, key)
    return json.loads(text)


def _strip_numbers(text: str, key: str) -> str:
    import re

    return re.sub(rf'"{key}": \d+', f'"{key}": 0', text)


def test_export_then_import_round_trips_everything(api, other_api):
    exchange = record(api, "We run billing on PostgreSQL.", idempotency_key="k1", usage={"prompt_tokens": 9})
    _augment_by_hand(exchange["exchange_id"])
    record(api, "Second call, still pending.", session_id=exchange["session_id"])
    remember(api, "Invoices go out on Fridays.", kind="attribute", process_id="billing_agent")

    exported = api.get("/api/v1/entities/customer_456/export/")
    assert exported.status_code == 200
    document = exported.json()
    assert len(document["memories"]) == 3 and len(document["triples"]) == 1
    assert len(document["sessions"][0]["conversation"]["exchanges"]) == 2

    imported = other_api.post("/api/v1/entities/import/", document, format="json")
    assert imported.status_code == 201, imported.json()
    assert imported.json()["memory_count"] == 3

    again = other_api.get("/api/v1/entities/customer_456/export/").json()
    assert _without_volatile(again) == _without_volatile(document)
    copy = Entity.objects.get(tenant__name="globex")
    assert Provenance.objects.filter(entity=copy, job__isnull=False, message__isnull=False).count() == 3
    assert Memory.objects.filter(entity=copy, embedding__isnull=False).count() == 3
    assert Process.objects.filter(tenant__name="globex", external_id="billing_agent").exists()
    superseded = Memory.objects.get(entity=copy, content="Billing runs on PostgreSQL.")
    assert superseded.superseded_by.content == "Billing runs on MySQL." and superseded.valid_to is not None
    assert superseded.superseded_by.claim_value == "MySQL"


def test_importing_an_existing_entity_is_a_conflict(api):
    remember(api, "A fact.")
    document = api.get("/api/v1/entities/customer_456/export/").json()
    assert_error(api.post("/api/v1/entities/import/", document, format="json"), 409, "conflict")


def test_an_invalid_document_says_what_to_fix_and_writes_nothing(api):
    remember(api, "A fact.")
    document = api.get("/api/v1/entities/customer_456/export/").json()
    document["entity"]["entity_id"] = "copy"
    document["memories"][0]["kind"] = "rumour"
    error = assert_error(api.post("/api/v1/entities/import/", document, format="json"), 400, "invalid")
    assert "memories" in error["fields"]
    document["memories"][0]["kind"] = "attribute"
    assert_error(api.post("/api/v1/entities/import/", document, format="json"), 400, "invalid")
    assert not Entity.objects.filter(external_id="copy").exists()


def test_a_read_only_key_can_export_but_not_import(api, read_only_api):
    remember(api, "A fact.")
    document = read_only_api.get("/api/v1/entities/customer_456/export/").json()
    document["entity"]["entity_id"] = "copy"
    assert_error(read_only_api.post("/api/v1/entities/import/", document, format="json"), 403)


def test_episodes_round_trip_and_are_recalled_from_the_copy(api, other_api, settings):
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"  # no memory: the episode alone answers
    exchange = record(api, "Caroline: Here is my painting! [shares a photo: a lake under purple clouds]")
    job_augment(Exchange.objects.get(pk=exchange["exchange_id"]).augmentation_job.pk)
    document = api.get("/api/v1/entities/customer_456/export/").json()
    episode = document["sessions"][0]["conversation"]["exchanges"][0]["episode"]
    assert episode["content"] == (
        "Caroline: Here is my painting! [shares a photo: a lake under purple clouds] / assistant: Noted."
    )
    assert episode["embedding"] and episode["embedding_model"]

    assert other_api.post("/api/v1/entities/import/", document, format="json").status_code == 201

    again = other_api.get("/api/v1/entities/customer_456/export/").json()
    assert _without_volatile(again) == _without_volatile(document)
    copy = Episode.objects.get(entity__tenant__name="globex")
    original = Episode.objects.get(entity__tenant__name="acme")
    assert (copy.embedding, copy.occurred_at) == (original.embedding, original.occurred_at)
    assert copy.exchange.entity_id == copy.entity_id and copy.session.uuid == original.session.uuid
    body = {"entity_id": "customer_456", "process_id": "reader", "query": "What colour were the clouds?"}
    recalled = other_api.post("/api/v1/recall/", {**body, "episodes": True}, format="json").json()
    assert any(item["episode_id"] == copy.pk for item in recalled["items"]), recalled
