"""Session History: an entity's sessions; one session turn by turn, refreshing while it is open."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse

from dashboard.queries.entities import entity_processes
from dashboard.queries.received import received_by_event
from dashboard.queries.sessions import entity_sessions, produced_by, session_turns, session_version, turn_position
from dashboard.web.access import entity_for, session_for
from dashboard.web.rendering import live_update, paginate, render_page

TURNS_PER_PAGE = 30


@login_required
def session_list(request: HttpRequest, entity_id: int) -> HttpResponse:
    entity = entity_for(request.user, entity_id)
    process = request.GET.get("process", "")[:200]
    return render_page(
        request,
        "dashboard/sessions.html",
        nav="sessions",
        entity=entity,
        process=process,
        processes=entity_processes(entity=entity),
        page_obj=paginate(request, entity_sessions(entity, process=process)),
    )


def _turns_context(request: HttpRequest, session) -> dict:
    paginator = Paginator(session_turns(session), TURNS_PER_PAGE)
    # Without ?page= a session opens on its latest turns, like a chat; ?call= on the page holding that turn.
    call = request.GET.get("call", "")
    position = turn_position(session, int(call)) if call.isdigit() and not request.GET.get("page") else None
    page_number = position // TURNS_PER_PAGE + 1 if position is not None else request.GET.get("page")
    page_obj = paginator.get_page(page_number or paginator.num_pages)
    turns = list(page_obj)
    produced = produced_by(turns)
    events = [turn.recall_event for turn in turns if turn.recall_event_id]
    received = received_by_event(events, hits={event.pk: event.hits.all() for event in events})
    for turn in turns:
        turn.produced = produced.get(turn.pk, [])
        turn.received = received.get(turn.recall_event_id)
    return {"session": session, "entity": session.entity, "page_obj": page_obj, "turns": turns}


@login_required
def session_detail(request: HttpRequest, session_id: int) -> HttpResponse:
    session = session_for(request.user, session_id)
    return render_page(
        request,
        "dashboard/session.html",
        nav="sessions",
        version=session_version(session),
        **_turns_context(request, session),
    )


@login_required
def session_live(request: HttpRequest, session_id: int) -> JsonResponse:
    session = session_for(request.user, session_id)
    return live_update(
        request, session_version(session), "dashboard/_session_turns.html", lambda: _turns_context(request, session)
    )
