"""Every dashboard URL with its ids filled, for tests that visit them all (new pages are covered as
they are added to dashboard/urls.py)."""

from __future__ import annotations

from django.urls import reverse

from dashboard.urls import urlpatterns
from memory.models import Node

# Pages that only take a POST (a GET is a 405, or a logout).
POST_ONLY = {"contradiction_resolve", "memory_edit", "memory_delete", "memory_restore", "logout"}


def dashboard_urls(handoff, *, include_post_only: bool = True) -> list[str]:
    """The URLs of the handoff's tenant, entity, technical agent's session, first memory of a
    contradiction, a graph node and that contradiction. The entity needs a triple and a contradiction
    (tests.dashboard.conftest add_graph and add_contradiction)."""
    entity = handoff.entity
    contradiction = entity.contradictions.first()
    ids = {
        "tenant_id": handoff.tenant.pk,
        "entity_id": entity.pk,
        "session_id": handoff.technical.session_id,
        "memory_id": contradiction.memory_a_id,
        "node_id": Node.objects.filter(entity=entity).first().pk,
        "contradiction_id": contradiction.pk,
    }
    return [
        reverse(f"dashboard:{pattern.name}", kwargs={name: ids[name] for name in pattern.pattern.converters})
        for pattern in urlpatterns
        if include_post_only or pattern.name not in POST_ONLY
    ]
