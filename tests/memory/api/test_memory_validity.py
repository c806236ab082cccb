"""Memories' validity over the API: valid_from/valid_to/superseded_by/is_current, the ``current``
filter, and undoing a supersession (POST /memories/<id>/restore/, audited)."""

from __future__ import annotations

import pytest

from memory.models import AuditEntry, Memory
from memory.services import dedup
from memory.services.augmentation import job_augment
from tests.memory.api.conftest import assert_error, record

STRIPE = "fact: Payments go through Stripe\nclaim: payments | go_through | Stripe | name"
ADYEN = "fact: We moved payments to Adyen\nclaim: payments | * | Adyen | name"


@pytest.fixture(autouse=True)
def line_extractor(settings):
    dedup.forget_all()
    settings.MEMORI_EXTRACTOR = "tests.support.extractors.LineExtractor"


def _switch_provider(api) -> tuple[int, int]:
    for text, when in ((STRIPE, "2026-03-01T09:00:00Z"), (ADYEN, "2026-03-02T09:00:00Z")):
        job_augment(record(api, text, occurred_at=when)["job_id"])
    return (
        Memory.objects.get(content="Payments go through Stripe").pk,
        Memory.objects.get(content="We moved payments to Adyen").pk,
    )


def test_a_memory_shows_its_validity_and_claim(api):
    stripe, adyen = _switch_provider(api)

    older = api.get(f"/api/v1/memories/{stripe}/").json()
    newer = api.get(f"/api/v1/memories/{adyen}/").json()

    assert older["valid_from"] == "2026-03-01T09:00:00Z" and older["valid_to"] == "2026-03-02T09:00:00Z"
    assert (older["superseded_by"], older["is_current"]) == (adyen, False)
    assert older["claim"] == {"subject": "payments", "attribute": "go_through", "value": "Stripe", "value_type": "name"}
    assert (newer["valid_to"], newer["superseded_by"], newer["is_current"]) == (None, None, True)


def test_the_list_filters_current_and_superseded_memories(api):
    stripe, adyen = _switch_provider(api)

    def ids(query: str) -> list[int]:
        response = api.get(f"/api/v1/memories/?{query}")
        assert response.status_code == 200, response.json()
        return [m["id"] for m in response.json()["results"]]

    assert ids("current=true") == [adyen]
    assert ids("current=false") == [stripe]
    assert sorted(ids("")) == sorted([stripe, adyen])
    assert_error(api.get("/api/v1/memories/?current=perhaps"), 400, "invalid")


def test_restoring_undoes_a_supersession_and_is_audited(api, api_key):
    stripe, _ = _switch_provider(api)

    response = api.post(f"/api/v1/memories/{stripe}/restore/")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["is_current"], body["valid_to"], body["superseded_by"]) == (True, None, None)
    entry = AuditEntry.objects.filter(object_type="memory", object_id=stripe).latest("created_at")
    assert entry.actor_api_key == api_key[0] and entry.after["reason"] == "supersession undone"
    assert entry.before["valid_to"].startswith("2026-03-02T09:00:00")


def test_restoring_a_current_memory_is_refused_with_the_reason(api):
    _, adyen = _switch_provider(api)

    error = assert_error(api.post(f"/api/v1/memories/{adyen}/restore/"), 409, "conflict")

    assert "current" in error["message"]


def test_a_read_only_key_or_another_tenant_cannot_restore(api, read_only_api, other_api):
    stripe, _ = _switch_provider(api)

    assert_error(read_only_api.post(f"/api/v1/memories/{stripe}/restore/"), 403)
    assert_error(other_api.post(f"/api/v1/memories/{stripe}/restore/"), 404)
    assert not Memory.objects.get(pk=stripe).is_current


def test_the_list_stays_free_of_n_plus_1_with_validity(api, django_assert_max_num_queries):
    _switch_provider(api)
    with django_assert_max_num_queries(4):
        assert len(api.get("/api/v1/memories/?page_size=100").json()["results"]) == 2
