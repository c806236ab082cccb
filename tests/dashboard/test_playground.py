from django.urls import reverse

from memory.models import RecallEvent
from tests.dashboard.conftest import XSS, add_memory


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
