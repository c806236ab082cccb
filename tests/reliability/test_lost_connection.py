"""The database connection lost right after an exchange committed: the answer says it was stored
(never a 503 "retry shortly" for a stored exchange), and a retry without a client key stores
nothing twice. The connection is really lost: on PostgreSQL its backend is terminated
(pg_terminate_backend from another connection), on SQLite the database file cannot be reopened."""

from __future__ import annotations

import json
from contextlib import contextmanager

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from rest_framework.test import APIClient

from memory.models import AugmentationJob, Exchange, Message
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db(transaction=True)


def _lose_the_connection() -> None:
    if connection.vendor == "postgresql":
        pid = connection.connection.info.backend_pid
        params = connection.get_connection_params()
        with psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"}, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])
    else:
        connection.close()
        connection.settings_dict["NAME"] = "/nonexistent-folder/memori.sqlite3"  # the reconnection fails


@contextmanager
def connection_lost_after_each_commit_of_an_exchange():
    name = connection.settings_dict["NAME"]

    def after_commit(sender, instance, created, **kwargs):
        if created:
            transaction.on_commit(_lose_the_connection)

    post_save.connect(after_commit, sender=Exchange, dispatch_uid="lose-connection")
    try:
        yield
    finally:
        post_save.disconnect(sender=Exchange, dispatch_uid="lose-connection")
        connection.close()
        connection.settings_dict["NAME"] = name


@pytest.fixture
def api(tenant) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(tenant)[1]}")
    return client


def _exchange(minute: int) -> dict:
    return {
        "entity_id": "customer_456",
        "process_id": "triage_agent",
        "occurred_at": f"2024-03-01T09:{minute:02d}:00Z",
        "messages": [{"role": "user", "content": f"Invoice {minute} was paid."}, {"role": "assistant", "content": "."}],
    }


def _post(api: APIClient, path: str, body: dict):
    return api.generic("POST", path, json.dumps(body), content_type="application/json")


def test_an_exchange_stored_before_the_connection_dropped_is_answered_as_stored(api):
    with connection_lost_after_each_commit_of_an_exchange():
        lost = _post(api, "/api/v1/exchanges/", _exchange(1))

    assert lost.status_code == 201, lost.content[:500]
    assert Exchange.objects.filter(pk=lost.json()["exchange_id"]).exists()
    again = _post(api, "/api/v1/exchanges/", _exchange(1))  # a client that retries anyway
    assert again.status_code == 200 and again.json()["exchange_id"] == lost.json()["exchange_id"]
    assert Exchange.objects.count() == 1 and Message.objects.count() == 2
    job = AugmentationJob.objects.get()
    assert job.published_at is None  # not marked: the sweeper publishes it again, nothing is lost


def test_a_bulk_import_stored_before_the_connection_dropped_is_answered_as_stored(api):
    body = {"exchanges": [_exchange(minute) for minute in range(5)]}
    with connection_lost_after_each_commit_of_an_exchange():
        lost = _post(api, "/api/v1/exchanges/bulk/", body)

    assert lost.status_code == 201, lost.content[:500]
    again = _post(api, "/api/v1/exchanges/bulk/", body)
    assert again.status_code == 201 and not any(result["created"] for result in again.json()["results"])
    assert Exchange.objects.count() == 5
    assert not AugmentationJob.objects.filter(published_at__isnull=False).exists()  # the connection was lost
