"""Recall playground: run the real recall for an entity, process and query without recording it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from dashboard.queries.playground import entity_named, recall_choices
from dashboard.queries.received import received_from_result
from dashboard.web.access import tenant_for
from dashboard.web.rendering import render_page
from memory.embedding.tokens import count_tokens
from memory.services.identity import InvalidIdentifier
from memory.services.recall import MAX_TOKEN_BUDGET, RecallRequest, recall_for_call


def _recall(tenant, entity_id: str, process_id: str, query: str, limit: int | None, budget: int | None):
    """Calls the recall service with record_event=False: the playground never changes recall history."""
    request = RecallRequest(
        tenant=tenant,
        entity_id=entity_id,
        process_id=process_id,
        query=query,
        limit=limit,
        token_budget=budget,
        record_event=False,
    )
    try:
        return recall_for_call(request), ""
    except InvalidIdentifier as error:
        return None, str(error)


def _positive_int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and int(value) > 0 else None


@login_required
def playground(request: HttpRequest, tenant_id: int) -> HttpResponse:
    tenant = tenant_for(request.user, tenant_id)
    entity_id = request.GET.get("entity", "").strip()
    process_id = request.GET.get("process", "").strip()
    query = request.GET.get("query", "").strip()
    limit, budget = _positive_int(request.GET.get("limit")), _positive_int(request.GET.get("token_budget"))
    result, error, items, received, tokens = None, "", [], None, {}
    if entity_id and process_id and query:
        result, error = _recall(tenant, entity_id, process_id, query, limit, budget)
        if result is not None:
            items = [(item, count_tokens(item.content)) for item in result.items]
            # Sources and flags as of now, defined once for the thread, the session page and here.
            received = received_from_result(result, at=timezone.now())
            tokens = {index: count_tokens(item.content) for index, item in enumerate(received.all)}
    choices = recall_choices(tenant)
    return render_page(
        request,
        "dashboard/playground.html",
        nav="playground",
        tenant=tenant,
        entity=entity_named(tenant, entity_id),
        entity_choices=choices.entities,
        process_choices=choices.processes,
        form={"entity": entity_id, "process": process_id, "query": query, "limit": limit, "token_budget": budget},
        # What an empty field means: the recall settings an agent's call gets (MEMORI_RECALL_*).
        defaults={
            "limit": settings.MEMORI_RECALL_LIMIT,
            "token_budget": settings.MEMORI_RECALL_TOKEN_BUDGET,
            "max_token_budget": MAX_TOKEN_BUDGET,
        },
        result=result,
        items=items,
        received=received,
        tokens=tokens,
        error=error,
    )
