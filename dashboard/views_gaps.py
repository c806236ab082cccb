"""Handoff gaps of one entity: the calls that lacked another agent's context, explained."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from dashboard import gaps as handoff
from dashboard.access import entity_for
from dashboard.rendering import paginate, render_page
from memory.models import RecallEvent

CALLS_PER_PAGE = 50


@login_required
def handoff_gaps(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    events = (
        RecallEvent.objects.filter(entity=entity).select_related("process", "entity").order_by("-created_at", "-pk")
    )
    page_obj = paginate(request, events, per_page=CALLS_PER_PAGE)
    return render_page(
        request,
        "dashboard/gaps.html",
        nav="gaps",
        entity=entity,
        page_obj=page_obj,
        gaps=handoff.find_handoff_gaps(list(page_obj)),
    )
