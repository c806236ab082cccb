from django.urls import reverse

from memory.models import Entity
from tests.dashboard.conftest import XSS


def test_it_lists_entities_with_counts(member_client, handoff, django_assert_max_num_queries):
    Entity.objects.create(tenant=handoff.tenant, external_id="project_alpha")
    with django_assert_max_num_queries(12):
        response = member_client.get(reverse("dashboard:entities", args=[handoff.tenant.pk]))
    assert response.status_code == 200
    rows = {entity.external_id: entity for entity in response.context["page_obj"]}
    assert rows["customer_456"].exchange_total == 4
    assert rows["customer_456"].session_total == 3
    assert rows["customer_456"].memory_total > 0
    assert rows["project_alpha"].exchange_total == 0


def test_search_and_sort(member_client, handoff):
    Entity.objects.create(tenant=handoff.tenant, external_id="project_alpha")
    response = member_client.get(reverse("dashboard:entities", args=[handoff.tenant.pk]), {"q": "alpha"})
    assert [e.external_id for e in response.context["page_obj"]] == ["project_alpha"]
    response = member_client.get(reverse("dashboard:entities", args=[handoff.tenant.pk]), {"sort": "exchanges"})
    assert [e.external_id for e in response.context["page_obj"]] == ["customer_456", "project_alpha"]


def test_it_never_lists_another_tenants_entities(member_client, tenant, outsider_entity):
    response = member_client.get(reverse("dashboard:entities", args=[tenant.pk]))
    assert b"globex_secret" not in response.content
    assert member_client.get(reverse("dashboard:entities", args=[outsider_entity.tenant_id])).status_code == 404


def test_entity_ids_are_escaped(member_client, tenant):
    Entity.objects.create(tenant=tenant, external_id=XSS[:30])
    response = member_client.get(reverse("dashboard:entities", args=[tenant.pk]))
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;" in response.content
