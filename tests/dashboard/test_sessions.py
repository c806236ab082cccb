from django.urls import reverse

from memory.services.augmentation import augment_job
from tests.dashboard.conftest import XSS, call


def test_it_lists_the_entitys_sessions(member_client, handoff, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = member_client.get(reverse("dashboard:sessions", args=[handoff.entity.pk]))
    assert response.status_code == 200
    sessions = {session.process.external_id: session for session in response.context["page_obj"]}
    assert sessions["triage_agent"].exchange_total == 2
    assert sessions["billing_agent"].exchange_total == 1


def test_a_session_shows_each_turn_with_its_injected_block_and_what_it_produced(
    member_client, handoff, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = member_client.get(reverse("dashboard:session", args=[handoff.billing.session_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Help me with the double charge" in body  # the message
    assert "triage_agent" in body  # the injected memory came from triage
    assert "&lt;memori_context&gt;" in body  # the block, escaped
    assert "Fused" in body and "Dense" in body and "Lexical" in body
    turn = response.context["turns"][0]
    assert turn.recall_event.hits.all()
    assert any(p.memory for p in turn.produced)  # what this turn's augmentation wrote


def test_pending_context_is_shown_on_the_gap_turn(member_client, handoff):
    response = member_client.get(reverse("dashboard:session", args=[handoff.technical.session_id]))
    assert "1 pending exchange, served raw" in response.content.decode()


def test_live_endpoint_refreshes_when_augmentation_finishes(member_client, handoff):
    url = reverse("dashboard:session_live", args=[handoff.late_triage.session_id])
    first = member_client.get(url).json()
    assert member_client.get(url, {"since": first["version"]}).json()["changed"] is False
    augment_job(handoff.late_triage.augmentation_job.pk)
    after = member_client.get(url, {"since": first["version"]}).json()
    assert after["changed"] is True
    assert "password reset email" in after["html"]


def test_another_tenants_sessions_are_404(member_client, outsider_entity, other_tenant):
    assert member_client.get(reverse("dashboard:sessions", args=[outsider_entity.pk])).status_code == 404
    other = call(other_tenant, process="spy_agent", user="secret plans", assistant="noted")
    assert member_client.get(reverse("dashboard:session", args=[other.session_id])).status_code == 404
    assert member_client.get(reverse("dashboard:session_live", args=[other.session_id])).status_code == 404


def test_messages_are_escaped(member_client, tenant):
    exchange = call(tenant, process="triage_agent", user=XSS, assistant="ok")
    response = member_client.get(reverse("dashboard:session", args=[exchange.session_id]))
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;alert" in response.content
