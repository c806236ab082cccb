"""Handoff gaps of one entity: the calls that lacked another agent's context, explained."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from dashboard.queries.gaps import find_handoff_gaps, recall_events_newest_first
from dashboard.web.access import entity_for
from dashboard.web.rendering import paginate, render_page

CALLS_PER_PAGE = 50


@login_required
def handoff_gaps(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    page_obj = paginate(request, recall_events_newest_first(entity), per_page=CALLS_PER_PAGE)
    return render_page(
        request,
        "dashboard/gaps.html",
        nav="gaps",
        entity=entity,
        page_obj=page_obj,
        gaps=find_handoff_gaps(list(page_obj)),
    )
