"""Entity list (search, sort, counts) and each entity's landing page: its summary."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import NoReverseMatch, reverse

from dashboard.queries.entities import ENTITY_SORTS, entities_with_counts
from dashboard.queries.entity_summary import contradiction_side_labels, entity_summary
from dashboard.web.access import entity_for, tenant_for
from dashboard.web.rendering import paginate, render_page


@login_required
def entity_list(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = tenant_for(request.user, tenant_id)
    search = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "activity")
    page_obj = paginate(request, entities_with_counts(tenant=tenant, search=search, sort=sort))
    return render_page(
        request,
        "dashboard/entities.html",
        nav="entities",
        tenant=tenant,
        page_obj=page_obj,
        search=search,
        sort=sort if sort in ENTITY_SORTS else "activity",
        sorts=ENTITY_SORTS,
    )


def _thread_url(entity_id: int) -> str:
    """The entity's handoff thread, once that page is installed."""
    try:
        return reverse("dashboard:thread", args=[entity_id])
    except NoReverseMatch:
        return ""


@login_required
def entity_home(request: HttpRequest, entity_id: int) -> HttpResponse:
    """What an operator needs first on entering an entity: counts, who contributed what and when,
    the latest handoff gaps and open contradictions, and the way to the handoff thread."""
    entity = entity_for(request.user, entity_id)
    summary = entity_summary(entity)
    return render_page(
        request,
        "dashboard/entity.html",
        nav="summary",
        entity=entity,
        summary=summary,
        contradiction_sides=contradiction_side_labels(summary.open_contradictions),
        thread_url=_thread_url(entity.pk),
    )
