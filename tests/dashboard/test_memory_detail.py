from django.urls import reverse

from memory.models import AuditEntry, Memory
from tests.dashboard.conftest import XSS, add_memory


def test_it_shows_provenance_recall_history_and_audit(member_client, handoff, django_assert_max_num_queries):
    hit = handoff.billing.recall_event.hits.filter(memory__isnull=False).first()
    with django_assert_max_num_queries(12):
        response = member_client.get(reverse("dashboard:memory", args=[hit.memory_id]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "triage_agent" in body  # provenance
    assert "recalled by <strong>billing_agent</strong>" in body  # recall history
    assert reverse("dashboard:session", args=[handoff.triage.session_id]) in body  # link to the source message
    assert "Edit or delete" not in body  # not staff


def test_staff_edit_and_delete_are_audited(client, staff_member, handoff):
    memory = add_memory(handoff.entity, "billing_agent", "The customer pays by Visa")
    client.force_login(staff_member)
    assert "Edit or delete" in client.get(reverse("dashboard:memory", args=[memory.pk])).content.decode()
    client.post(reverse("dashboard:memory_edit", args=[memory.pk]), {"content": "The customer pays by Mastercard"})
    memory.refresh_from_db()
    assert memory.content == "The customer pays by Mastercard"
    response = client.get(reverse("dashboard:memory", args=[memory.pk]))
    assert "“The customer pays by Visa” → “The customer pays by Mastercard”" in response.content.decode()
    client.post(reverse("dashboard:memory_delete", args=[memory.pk]))
    assert not Memory.objects.filter(pk=memory.pk).exists()
    assert AuditEntry.objects.filter(object_id=memory.pk, action="delete").exists()


def test_an_empty_edit_is_refused_with_a_message(client, staff_member, handoff):
    memory = add_memory(handoff.entity, "billing_agent", "The customer pays by Visa")
    client.force_login(staff_member)
    response = client.post(reverse("dashboard:memory_edit", args=[memory.pk]), {"content": "  "}, follow=True)
    assert "content must not be empty" in response.content.decode()


def test_another_tenants_memory_is_404(member_client, outsider_entity):
    memory = Memory.objects.get(entity=outsider_entity)
    assert member_client.get(reverse("dashboard:memory", args=[memory.pk])).status_code == 404


def test_content_is_escaped(member_client, handoff):
    memory = add_memory(handoff.entity, "triage_agent", XSS)
    response = member_client.get(reverse("dashboard:memory", args=[memory.pk]))
    assert b"<script>alert" not in response.content
    assert b"&lt;script&gt;alert" in response.content


def test_a_superseded_memory_shows_its_validity_and_staff_can_undo_it(client, staff_member, handoff):
    from django.utils import timezone

    old = add_memory(handoff.entity, "billing_agent", "Payments go through Stripe")
    new = add_memory(handoff.entity, "billing_agent", "We moved payments to Adyen")
    Memory.objects.filter(pk=old.pk).update(valid_to=timezone.now(), superseded_by=new)
    client.force_login(staff_member)

    old_page = client.get(reverse("dashboard:memory", args=[old.pk])).content.decode()
    new_page = client.get(reverse("dashboard:memory", args=[new.pk])).content.decode()
    response = client.post(reverse("dashboard:memory_restore", args=[old.pk]), follow=True)

    assert "superseded by" in old_page and "We moved payments to Adyen" in old_page
    assert "Undo supersession" in old_page and "Undo supersession" not in new_page
    assert "Replaces:" in new_page and "Payments go through Stripe" in new_page
    old.refresh_from_db()
    assert old.is_current and "supersession undone" in response.content.decode()
