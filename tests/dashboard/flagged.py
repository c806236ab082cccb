"""Test data for what a call is given and must be flagged: a superseded memory, a pending exchange."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from memory.models import Entity, Exchange, Memory, Tenant
from memory.services.embedding_store import bump_memory_version
from tests.dashboard.conftest import add_memory, call

# Asks about both the refund delay (add_contradiction's two sides) and the superseded address.
FLAGGED_QUESTION = "When does the refund reach the card, and what is the billing address in Lisbon?"


def add_superseded(entity: Entity) -> tuple[Memory, Memory]:
    """Billing's address in Lisbon, replaced a minute ago by triage's Porto (as supersession records it)."""
    stale = add_memory(entity, "billing_agent", "The customer's billing address is Rua Augusta 12 in Lisbon")
    current = add_memory(entity, "triage_agent", "The customer moved their billing address to Porto")
    Memory.objects.filter(pk=stale.pk).update(valid_to=timezone.now() - timedelta(minutes=1), superseded_by=current)
    bump_memory_version(entity.pk)
    return stale, current


def unaugmented_triage_call(tenant: Tenant) -> Exchange:
    """Triage's first words on a new entity, not augmented yet: the next agent can only get them raw."""
    return call(
        tenant,
        process="triage_agent",
        user="My Visa card was charged twice.",
        assistant="The Visa card was charged twice.",
        augment=False,
    )
