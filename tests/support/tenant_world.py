"""One tenant's worth of data, a row of every model the admin shows, written the way the product
writes it (recording, augmentation, recall, the storing and editing services), every name and text
carrying one word so that a page showing any of it can be caught by that word ("globex")."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.utils import timezone

from memory.models import Contradiction, Entity, Exchange, Memory, Process, Tenant
from memory.services.audit import Actor
from memory.services.augmentation import job_augment
from memory.services.contradictions import record_memory_contradiction
from memory.services.editing import memory_update
from memory.services.recall import RecallRequest, recall_for_call
from memory.services.recording import ExchangeInput, MessageInput, record_exchange
from memory.services.storing import Mention, memory_mention, triple_mention
from tests.factories import make_api_key


@dataclass
class TenantWorld:
    tenant: Tenant
    word: str
    entity: Entity
    process: Process
    memory: Memory


def _call(tenant: Tenant, word: str, process: str, user: str, assistant: str, *, recall: bool) -> Exchange:
    event_id = None
    if recall:
        event_id = recall_for_call(
            RecallRequest(tenant=tenant, entity_id=f"{word}_secret", process_id=process, query=user)
        ).event_id
    recorded = record_exchange(
        tenant=tenant,
        data=ExchangeInput(
            entity_id=f"{word}_secret",
            process_id=process,
            messages=[MessageInput(role="user", content=user), MessageInput(role="assistant", content=assistant)],
            model="gpt-4o-mini",
            recall_event_id=event_id,
        ),
    )
    job_augment(recorded.job.pk)
    return recorded.exchange


def build_tenant_world(tenant: Tenant, word: str) -> TenantWorld:
    """Two agents of ``tenant`` on the entity ``<word>_secret``: an exchange, a recall that finds
    what it stored, a triple, a contradiction, an operator's edit (audited) and an API key."""
    name = word.title()
    _call(
        tenant,
        word,
        f"{word}_spy_agent",
        f"Where does {name} keep the launch codes?",
        f"{name} keeps its launch codes in the blue binder.",
        recall=False,
    )
    _call(
        tenant,
        word,
        f"{word}_analyst",
        f"Which binder holds the {name} launch codes?",
        f"The blue binder holds the {name} launch codes.",
        recall=True,
    )
    entity = Entity.objects.get(tenant=tenant, external_id=f"{word}_secret")
    process = Process.objects.get(tenant=tenant, external_id=f"{word}_spy_agent")
    mention = Mention(process=process, mentioned_at=timezone.now(), source="api")
    triple_mention(entity=entity, subject=f"{name} HQ", predicate=f"{word}_stores", obj="launch codes", mention=mention)
    older = memory_mention(entity=entity, kind="fact", content=f"{name} ships on Monday", mention=mention).obj
    newer = memory_mention(entity=entity, kind="fact", content=f"{name} ships on Friday", mention=mention).obj
    record_memory_contradiction(entity, older.pk, newer.pk, Contradiction.Reason.EXTRACTOR)
    memory_update(memory=newer, actor=Actor(label=f"user:{word}_lead"), content=f"{name} ships on Friday at noon")
    make_api_key(tenant, name=f"{word}-agents")
    return TenantWorld(tenant=tenant, word=word, entity=entity, process=process, memory=older)


def staff_member_of(tenant: Tenant, username: str, password: str = "member-pass-1"):
    """A staff user of ``tenant`` (not a superuser) holding every permission of the memory app."""
    user = get_user_model().objects.create_user(username=username, password=password, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="memory"))
    tenant.members.add(user)
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions
