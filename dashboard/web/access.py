"""Who may see what: a dashboard user sees only the tenants they are a member of (superusers: all).

Every view resolves its tenant, entity, session or memory through these functions, so a row of a
tenant the user does not belong to is a 404, never a leak.
"""

from __future__ import annotations

from django.http import Http404

from dashboard.queries.contradictions import RESOLVE_RELATED
from memory.models import Contradiction, Entity, Memory, Session, Tenant
from memory.selectors import tenants_for


def tenant_for(user, tenant_id: int) -> Tenant:
    tenant = tenants_for(user).filter(pk=tenant_id).first()
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def default_tenant_for(user) -> Tenant | None:
    return tenants_for(user).order_by("name").first()


def entity_for(user, entity_id: int) -> Entity:
    entity = Entity.objects.select_related("tenant").filter(pk=entity_id, tenant__in=tenants_for(user)).first()
    if entity is None:
        raise Http404("No such entity.")
    return entity


def session_for(user, session_id: int) -> Session:
    session = (
        Session.objects.select_related("entity__tenant", "process")
        .filter(pk=session_id, entity__tenant__in=tenants_for(user))
        .first()
    )
    if session is None:
        raise Http404("No such session.")
    return session


def memory_for(user, memory_id: int) -> Memory:
    memory = (
        Memory.objects.select_related("entity__tenant", "owner_process", "first_process", "superseded_by")
        .filter(pk=memory_id, entity__tenant__in=tenants_for(user))
        .first()
    )
    if memory is None:
        raise Http404("No such memory.")
    return memory


def contradiction_for(user, contradiction_id: int) -> Contradiction:
    contradiction = (
        Contradiction.objects.select_related("entity__tenant", *RESOLVE_RELATED)
        .filter(pk=contradiction_id, entity__tenant__in=tenants_for(user))
        .first()
    )
    if contradiction is None:
        raise Http404("No such contradiction.")
    return contradiction
