"""The entity's handoff thread: the page, and the endpoint its open latest page polls while agents run."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse

from dashboard.queries.entities import entity_processes
from dashboard.queries.thread import GAP_SEARCH_LIMIT, thread_page, thread_version
from dashboard.queries.thread_filters import MARKERS, thread_filters
from dashboard.web.access import entity_for
from dashboard.web.rendering import live_update, render_page


def _thread_context(request: HttpRequest, entity) -> dict:
    filters = thread_filters(request.GET)
    return {
        "filters": filters,
        "page": thread_page(entity, filters),
        "markers": MARKERS,
        "gap_search_limit": GAP_SEARCH_LIMIT,
        "entity": entity,
    }


@login_required
def thread(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    context = _thread_context(request, entity)
    return render_page(
        request,
        "dashboard/thread.html",
        nav="thread",
        processes=entity_processes(entity=entity),
        version=thread_version(entity),
        **context,
    )


@login_required
def thread_live(request: HttpRequest, entity_id: int) -> JsonResponse:
    """Polled by the open latest page: its calls re-rendered when anything changed since ``since``."""
    entity = entity_for(request.user, entity_id)
    return live_update(
        request, thread_version(entity), "dashboard/thread_calls.html", lambda: _thread_context(request, entity)
    )
