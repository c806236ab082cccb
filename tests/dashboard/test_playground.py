from django.urls import reverse

from memory.models import RecallEvent
from tests.dashboard.conftest import XSS, add_contradiction, add_memory
from tests.dashboard.flagged import FLAGGED_QUESTION, add_superseded, unaugmented_triage_call


def test_it_shows_the_block_scores_and_tokens_without_recording(member_client, handoff, django_assert_max_num_queries):
    events_before = RecallEvent.objects.count()
    with django_assert_max_num_queries(30):
        response = member_client.get(
            reverse("dashboard:playground", args=[handoff.tenant.pk]),
            {"entity": "customer_456", "process": "billing_agent", "query": "Visa card double charge"},
        )
    assert response.status_code == 200
    items = response.context["items"]
    assert items
    item, tokens = items[0]
    assert item.dense_score is not None and item.lexical_score is not None and tokens > 0
    body = response.content.decode()
    assert "&lt;memori_context&gt;" in body
    assert "Visa card" in body
    assert RecallEvent.objects.count() == events_before  # record_event=False


def test_an_unknown_entity_recalls_nothing(member_client, tenant):
    response = member_client.get(
        reverse("dashboard:playground", args=[tenant.pk]), {"entity": "nobody", "process": "x", "query": "anything"}
    )
    assert response.status_code == 200
    assert "Nothing would be recalled" in response.content.decode()


def test_a_bad_identifier_is_explained(member_client, tenant):
    response = member_client.get(
        reverse("dashboard:playground", args=[tenant.pk]), {"entity": "x" * 300, "process": "x", "query": "q"}
    )
    assert response.status_code == 200
    assert response.context["error"]


def test_it_only_recalls_from_the_users_tenants(member_client, outsider_entity):
    response = member_client.get(
        reverse("dashboard:playground", args=[outsider_entity.tenant_id]),
        {"entity": "globex_secret", "process": "spy_agent", "query": "launch codes"},
    )
    assert response.status_code == 404


def test_recalled_text_is_escaped(member_client, handoff):
    add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(
        reverse("dashboard:playground", args=[handoff.tenant.pk]),
        {"entity": "customer_456", "process": "billing_agent", "query": "customer nickname alert pwned"},
    )
    assert b"<script>alert" not in response.content


def test_pending_raw_context_shows_as_items_with_their_source(member_client, tenant):
    triage = unaugmented_triage_call(tenant)
    response = member_client.get(
        reverse("dashboard:playground", args=[tenant.pk]),
        {"entity": "customer_456", "process": "billing_agent", "query": "double charge"},
    )
    received = response.context["received"]
    assert [(item.sources[0].process, item.sources[0].exchange_id) for item in received.pending] == [
        ("triage_agent", triage.pk)
    ]
    body = response.content.decode()
    assert "1 item (1 raw from other agents)" in body and "Nothing would be recalled" not in body


def test_contradicted_and_superseded_items_are_flagged(member_client, handoff):
    older, newer = add_contradiction(handoff.entity)
    stale, current = add_superseded(handoff.entity)
    response = member_client.get(
        reverse("dashboard:playground", args=[handoff.tenant.pk]),
        {
            "entity": "customer_456",
            "process": "qa_agent",
            "query": FLAGGED_QUESTION,
        },
    )
    received = response.context["received"]
    assert {item.memory_id for item in received.contradicted} & {older.pk, newer.pk}
    assert [item.memory_id for item in received.superseded] == [stale.pk]
    body = response.content.decode()
    assert "1 superseded item and 1 contradicted item would be injected" in body
    assert "flag-superseded" in body and "flag-contradicted" in body


def test_it_shows_the_default_limit_and_token_budget_an_agents_call_gets(member_client, tenant, settings):
    settings.MEMORI_RECALL_TOKEN_BUDGET = 900
    settings.MEMORI_RECALL_LIMIT = 0
    body = member_client.get(reverse("dashboard:playground", args=[tenant.pk])).content.decode()
    assert "(default: 900 tokens)" in body and 'placeholder="900"' in body
    assert "(default: none, the budget decides)" in body

    settings.MEMORI_RECALL_LIMIT = 12
    body = member_client.get(reverse("dashboard:playground", args=[tenant.pk])).content.decode()
    assert "(default: 12 items)" in body and 'placeholder="12"' in body
