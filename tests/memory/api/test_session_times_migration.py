"""Migration 0009 moves the start and last activity of sessions recorded before the fix (at their
import time) to their exchanges' own times."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime

from django.apps import apps
from django.utils import timezone

from memory.models import Conversation, Session
from tests.memory.api.conftest import exchange_payload

migration = importlib.import_module("memory.migrations.0009_sessions_start_at_first_message")


def test_imported_sessions_recorded_before_the_fix_get_their_exchanges_times(api):
    payloads = [
        exchange_payload("We use Stripe.", session_id="6d1f2a9e-1c1b-4c55-9b43-2f0cbb1c1a01", occurred_at=at)
        for at in ("2023-05-01T10:00:00Z", "2023-05-01T11:00:00Z")
    ]
    assert api.post("/api/v1/exchanges/bulk/", {"exchanges": payloads}, format="json").status_code == 201
    imported_at = timezone.now()
    Session.objects.update(started_at=imported_at, last_activity_at=imported_at)  # as recorded before the fix
    Conversation.objects.update(started_at=imported_at, last_message_at=imported_at)

    migration.follow_exchange_times(apps, None)

    session = Session.objects.select_related("conversation").get()
    assert (session.started_at, session.last_activity_at) == (
        datetime(2023, 5, 1, 10, tzinfo=UTC),
        datetime(2023, 5, 1, 11, tzinfo=UTC),
    )
    assert (session.conversation.started_at, session.conversation.last_message_at) == (
        session.started_at,
        session.last_activity_at,
    )
