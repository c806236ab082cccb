"""The operators' admin: every model listed, edits and deletes audited, API keys shown once."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from memory.models import ApiKey, AuditEntry, Entity, Exchange, HourlyExchanges, Memory, Process, Session, hash_api_key
from memory.services.storing import Mention, memory_mention

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("operator", "op@example.com", "pw-operator-1")
    client.force_login(user)
    return client


@pytest.fixture
def fact(tenant) -> Memory:
    entity = Entity.objects.create(tenant=tenant, external_id="repo_myapp")
    process = Process.objects.create(tenant=tenant, external_id="coder_agent")
    mention = Mention(process=process, mentioned_at=timezone.now())
    return memory_mention(entity=entity, kind="fact", content="Passwords are hashed with bcrypt", mention=mention).obj


def test_admin_lists_every_memory_model(staff_client, fact):
    index = staff_client.get("/admin/").content.decode()
    for model in apps.get_app_config("memory").get_models():
        url = reverse(f"admin:memory_{model._meta.model_name}_changelist")
        assert url in index, model.__name__
        assert staff_client.get(url).status_code == 200, model.__name__


def test_memory_page_shows_its_provenance(staff_client, fact):
    page = staff_client.get(reverse("admin:memory_memory_change", args=[fact.pk])).content.decode()
    assert "coder_agent" in page


def test_editing_a_memory_in_the_admin_is_audited_with_before_and_after(staff_client, fact):
    url = reverse("admin:memory_memory_change", args=[fact.pk])
    form = {
        "entity": fact.entity_id,
        "kind": "fact",
        "owner_process": "",
        "content": "Passwords are hashed with argon2",
        "mentions-TOTAL_FORMS": "1",
        "mentions-INITIAL_FORMS": "1",
        "mentions-MIN_NUM_FORMS": "0",
        "mentions-MAX_NUM_FORMS": "1000",
    }
    response = staff_client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    fact.refresh_from_db()
    assert fact.content == "Passwords are hashed with argon2"
    entry = AuditEntry.objects.get(object_type="memory", object_id=fact.pk, action="update")
    assert entry.actor_label == "user:operator"
    assert entry.before["content"] == "Passwords are hashed with bcrypt"
    assert entry.after["content"] == "Passwords are hashed with argon2"


def test_deleting_a_memory_in_the_admin_is_audited(staff_client, fact):
    url = reverse("admin:memory_memory_delete", args=[fact.pk])
    staff_client.post(url, {"post": "yes"})

    assert not Memory.objects.filter(pk=fact.pk).exists()
    entry = AuditEntry.objects.get(object_type="memory", object_id=fact.pk, action="delete")
    assert entry.before["content"] == "Passwords are hashed with bcrypt"


def test_admin_creates_an_api_key_and_shows_the_raw_key_once(staff_client, tenant):
    response = staff_client.post(
        reverse("admin:memory_apikey_add"), {"tenant": tenant.pk, "name": "ci", "scope": "read_write"}, follow=True
    )
    page = response.content.decode()
    api_key = ApiKey.objects.get(name="ci")
    raw_key = page.split("New API key for acme: ")[1].split(" ")[0]
    assert hash_api_key(raw_key) == api_key.key_hash
    assert raw_key not in staff_client.get(reverse("admin:memory_apikey_change", args=[api_key.pk])).content.decode()


def test_admin_requires_staff(client, fact):
    response = client.get(reverse("admin:memory_memory_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_resolving_contradictions_in_the_admin_keeps_both_sides_and_is_audited(staff_client, fact):
    from memory.models import Contradiction
    from memory.services.contradictions import record_memory_contradiction

    mention = Mention(process=fact.first_process, mentioned_at=timezone.now())
    other = memory_mention(entity=fact.entity, kind="fact", content="Passwords are hashed with scrypt", mention=mention)
    record_memory_contradiction(fact.entity, fact.pk, other.obj.pk, reason="extractor")
    contradiction = Contradiction.objects.get(memory_a=fact)

    response = staff_client.post(
        reverse("admin:memory_contradiction_changelist"),
        {"action": "resolve_keeping_both", "_selected_action": [contradiction.pk]},
        follow=True,
    )

    contradiction.refresh_from_db()
    fact.refresh_from_db()
    assert "Resolved 1 contradiction(s)" in response.content.decode()
    assert contradiction.resolved_at is not None
    assert contradiction.resolution_note == "Kept both sides (not a conflict) by user:operator."
    assert not fact.is_contradicted
    assert AuditEntry.objects.filter(object_type="contradiction", object_id=contradiction.pk).exists()


def test_the_admin_filters_by_validity_and_undoes_a_supersession(staff_client, fact):
    mention = Mention(process=fact.first_process, mentioned_at=timezone.now())
    newer = memory_mention(entity=fact.entity, kind="fact", content="Passwords are hashed with argon2", mention=mention)
    Memory.objects.filter(pk=fact.pk).update(valid_to=timezone.now(), superseded_by=newer.obj)
    changelist = reverse("admin:memory_memory_changelist")

    superseded = staff_client.get(changelist, {"validity": "superseded"})
    current = staff_client.get(changelist, {"validity": "current"})
    response = staff_client.post(
        changelist, {"action": "restore_superseded", "_selected_action": [fact.pk, newer.obj.pk]}, follow=True
    )

    assert [row.pk for row in superseded.context["cl"].result_list] == [fact.pk]
    assert "superseded by" in superseded.content.decode() and "hashed with argon2" in superseded.content.decode()
    assert [row.pk for row in current.context["cl"].result_list] == [newer.obj.pk]
    page = response.content.decode()
    assert "Restored 1 memory(ies)" in page and f"Already current: #{newer.obj.pk}" in page
    fact.refresh_from_db()
    assert fact.is_current and fact.superseded_by is None
    entry = AuditEntry.objects.get(object_type="memory", object_id=fact.pk, action="update")
    assert entry.actor_label == "user:operator" and entry.after["reason"] == "supersession undone"


def _recorded_twice(tenant) -> Exchange:
    from memory.services.recording import ExchangeInput, MessageInput, record_exchange

    session = uuid.uuid4()
    for text in ("The deploy runs on Fridays.", "The deploy moved to Mondays."):
        messages = [MessageInput(role="user", content=text), MessageInput(role="assistant", content="Noted.")]
        data = ExchangeInput(entity_id="repo_myapp", process_id="ops_agent", messages=messages, session_id=session)
        record_exchange(tenant=tenant, data=data)
    return Exchange.objects.latest("pk")


def _counted() -> int:
    return sum(HourlyExchanges.objects.values_list("exchanges", flat=True))


def test_deleting_sessions_in_the_admin_is_audited_and_the_overview_counts_follow(staff_client, tenant):
    session = _recorded_twice(tenant).session
    assert _counted() == 2

    response = staff_client.post(
        reverse("admin:memory_session_changelist"),
        {"action": "delete_selected", "_selected_action": [session.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Session.objects.filter(pk=session.pk).exists()
    assert _counted() == 0
    assert AuditEntry.objects.filter(action="delete", object_type="session", object_id=session.pk).exists()


def test_deleting_a_conversation_in_the_admin_goes_through_the_same_service(staff_client, tenant):
    conversation = _recorded_twice(tenant).conversation

    response = staff_client.post(reverse("admin:memory_conversation_delete", args=[conversation.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert _counted() == 0
    assert AuditEntry.objects.filter(action="delete", object_type="conversation", object_id=conversation.pk).exists()


def test_an_exchange_cannot_be_edited_in_the_admin(staff_client, tenant):
    exchange = _recorded_twice(tenant)
    change_url = reverse("admin:memory_exchange_change", args=[exchange.pk])

    page = staff_client.get(change_url)
    refused = staff_client.post(change_url, {"entity": exchange.entity_id, "occurred_at_0": "2020-01-01"})

    assert page.status_code == 200 and "The deploy moved to Mondays." in page.content.decode()
    assert refused.status_code == 403
    assert _counted() == 2


def test_deleting_an_exchange_in_the_admin_is_audited_and_uncounted(staff_client, tenant):
    exchange = _recorded_twice(tenant)

    response = staff_client.post(reverse("admin:memory_exchange_delete", args=[exchange.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert _counted() == 1
    assert AuditEntry.objects.filter(action="delete", object_type="exchange", object_id=exchange.pk).exists()
