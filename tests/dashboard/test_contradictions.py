from django.urls import reverse

from memory.models import AuditEntry, Contradiction, Memory
from tests.dashboard.conftest import add_contradiction


def test_it_lists_open_contradictions_with_the_processes_behind_each_side(
    member_client, handoff, django_assert_max_num_queries
):
    add_contradiction(handoff.entity)
    with django_assert_max_num_queries(10):
        response = member_client.get(reverse("dashboard:contradictions", args=[handoff.entity.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "within five business days" in body and "within ten business days" in body
    sides = response.context["rows"][0].sides
    assert sides[0]["processes"] == ["billing_agent"]
    assert sides[1]["processes"] == ["technical_agent"]
    assert "Delete side A" not in body  # not staff


def test_staff_resolve_by_deleting_a_side_audited(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    response = client.post(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), {"side": "b", "action": "delete"}
    )
    assert response.status_code == 302
    assert not Memory.objects.filter(pk=newer.pk).exists()
    assert not Contradiction.objects.filter(pk=contradiction.pk).exists()
    entry = AuditEntry.objects.get(object_type="memory", object_id=newer.pk)
    assert entry.action == "delete" and entry.actor_label == "user:lead"


def test_staff_resolve_by_editing_a_side(client, staff_member, handoff):
    older, _ = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    client.post(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]),
        {"side": "a", "action": "edit", "content": "The refund reaches the card within ten business days, per billing"},
    )
    older.refresh_from_db()
    assert older.content.endswith("per billing")
    assert AuditEntry.objects.filter(object_type="memory", object_id=older.pk, action="update").exists()


def test_members_who_are_not_staff_cannot_resolve(member_client, handoff):
    _, newer = add_contradiction(handoff.entity)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    member_client.post(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), {"side": "b", "action": "delete"}
    )
    assert Memory.objects.filter(pk=newer.pk).exists()


def test_another_tenants_contradictions_are_404(member_client, outsider_entity):
    assert member_client.get(reverse("dashboard:contradictions", args=[outsider_entity.pk])).status_code == 404
