from django.urls import reverse

from memory.models import AuditEntry, Contradiction, Entity, Memory, Provenance
from memory.services.contradictions import record_memory_contradiction
from tests.dashboard.conftest import add_contradiction, add_memory


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
    assert "<h1>Where agents disagree</h1>" in body
    assert "billing_agent and technical_agent disagree" in body  # the title says who, in plain words


def test_each_side_says_when_and_in_which_call_it_was_said(member_client, handoff, django_assert_max_num_queries):
    mention = Provenance.objects.filter(memory__isnull=False, process__external_id="triage_agent").first()
    other = add_memory(handoff.entity, "billing_agent", "The customer was charged once on the Visa card")
    record_memory_contradiction(handoff.entity, mention.memory_id, other.pk, Contradiction.Reason.EXTRACTOR)
    add_contradiction(handoff.entity)

    with django_assert_max_num_queries(12):
        response = member_client.get(reverse("dashboard:contradictions", args=[handoff.entity.pk]))

    body = response.content.decode()
    said = next(row for row in response.context["rows"] if row.memory_a_id == mention.memory_id).sides[0]
    assert said["mentions"][0]["session_id"] == handoff.triage.session_id
    assert said["mentions"][0]["mentioned_at"] == mention.mentioned_at
    session = reverse("dashboard:session", args=[handoff.triage.session_id])
    assert f'href="{session}#exchange-{handoff.triage.pk}"' in body  # the call that said it
    assert mention.mentioned_at.strftime("%Y-%m-%d %H:%M:%S") in body
    assert "its call is no longer recorded" in body  # the billing side's mention has no session


def test_deleting_a_side_asks_for_confirmation_first(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    listing = client.get(reverse("dashboard:contradictions", args=[handoff.entity.pk])).content.decode()
    assert "Delete side B…" in listing

    confirm = client.get(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), {"action": "delete", "side": "b"}
    )

    body = confirm.content.decode()
    assert confirm.status_code == 200
    assert "<h1>Delete side B?</h1>" in body
    assert "Deleted: side B" in body and "within ten business days" in body
    assert "Kept: side A" in body and "within five business days" in body
    assert 'name="action" value="delete"' in body and 'name="side" value="b"' in body
    assert Memory.objects.filter(pk=newer.pk).exists()  # asking changes nothing
    assert Contradiction.objects.get(pk=contradiction.pk).resolved_at is None


def test_the_confirmation_of_a_resolved_contradiction_or_unknown_side_says_why(client, staff_member, handoff):
    add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    url = reverse("dashboard:contradiction_resolve", args=[contradiction.pk])

    unknown = client.get(url, {"action": "delete", "side": "c"}, follow=True)
    resolve(client, contradiction, action="keep_both")
    resolved = client.get(url, {"action": "delete", "side": "a"}, follow=True)

    assert "Not resolved: side must be a or b." in unknown.content.decode()
    assert "already resolved" in resolved.content.decode()


def test_members_who_are_not_staff_get_no_confirmation_page(member_client, handoff):
    add_contradiction(handoff.entity)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    response = member_client.get(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), {"action": "delete", "side": "a"}
    )
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def resolve(client, contradiction: Contradiction, *, follow: bool = False, **data):
    return client.post(reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), data, follow=follow)


def test_staff_resolve_by_deleting_a_side_audited(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    version = Entity.objects.get(pk=handoff.entity.pk).memory_version

    response = resolve(client, contradiction, side="b", action="delete", note="billing owns refunds")

    assert response.status_code == 302
    assert not Memory.objects.filter(pk=newer.pk).exists()
    contradiction.refresh_from_db()  # the record outlives the deleted side
    assert contradiction.resolved_at is not None and contradiction.memory_b_id is None
    assert "Deleted side B (technical_agent)" in contradiction.resolution_note
    assert contradiction.resolution_note.endswith("by user:lead. Note: billing owns refunds")
    entry = AuditEntry.objects.get(object_type="memory", object_id=newer.pk)
    assert entry.action == "delete" and entry.actor_label == "user:lead"
    assert AuditEntry.objects.get(object_type="contradiction", object_id=contradiction.pk).after["resolved_at"]
    older.refresh_from_db()
    assert not older.is_contradicted
    unflagged = AuditEntry.objects.get(object_type="memory", object_id=older.pk)
    assert (unflagged.before["is_contradicted"], unflagged.after["is_contradicted"]) == (True, False)
    assert Entity.objects.get(pk=handoff.entity.pk).memory_version > version


def test_staff_resolve_by_editing_a_side(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    resolve(
        client,
        contradiction,
        side="a",
        action="edit",
        content="The refund reaches the card within ten business days, per billing",
    )
    older.refresh_from_db()
    assert older.content.endswith("per billing") and not older.is_contradicted
    assert AuditEntry.objects.filter(object_type="memory", object_id=older.pk, action="update").exists()
    contradiction.refresh_from_db()
    assert contradiction.resolved_at is not None
    assert contradiction.resolution_note.startswith("Edited side A (billing_agent)")
    assert Memory.objects.filter(pk=newer.pk, is_contradicted=False).exists()


def test_staff_resolve_by_keeping_both_sides(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)

    resolve(client, contradiction, action="keep_both", note="five days for Visa, ten for others")

    contradiction.refresh_from_db()
    assert contradiction.resolved_at is not None
    assert "Kept both sides" in contradiction.resolution_note
    assert not Memory.objects.filter(pk__in=[older.pk, newer.pk], is_contradicted=True).exists()
    page = client.get(reverse("dashboard:contradictions", args=[handoff.entity.pk]) + "?status=all")
    assert "five days for Visa, ten for others" in page.content.decode()
    assert (
        "No open contradictions"
        in client.get(reverse("dashboard:contradictions", args=[handoff.entity.pk])).content.decode()
    )


def test_a_side_in_another_open_contradiction_stays_flagged(client, staff_member, handoff):
    older, newer = add_contradiction(handoff.entity)
    third = add_memory(handoff.entity, "triage_agent", "The refund reaches the card within two business days")
    record_memory_contradiction(handoff.entity, older.pk, third.pk, Contradiction.Reason.EXTRACTOR)
    client.force_login(staff_member)

    resolve(client, Contradiction.objects.get(memory_b=newer), action="keep_both")

    older.refresh_from_db()
    assert older.is_contradicted  # still conflicts with the triage agent's memory
    assert not Memory.objects.get(pk=newer.pk).is_contradicted


def test_a_refused_resolution_changes_nothing_and_says_why(client, staff_member, handoff):
    older, _ = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)

    response = resolve(client, contradiction, side="a", action="edit", content="   ", follow=True)
    unknown = resolve(client, contradiction, side="c", action="delete", follow=True)

    assert "Not resolved: content must not be empty." in response.content.decode()
    assert "Not resolved: side must be" in unknown.content.decode()
    contradiction.refresh_from_db()
    older.refresh_from_db()
    assert contradiction.resolved_at is None and older.is_contradicted
    assert not AuditEntry.objects.exists()


def test_a_resolved_contradiction_cannot_be_resolved_again(client, staff_member, handoff):
    _, newer = add_contradiction(handoff.entity)
    client.force_login(staff_member)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    resolve(client, contradiction, action="keep_both")

    response = resolve(client, contradiction, side="b", action="delete", follow=True)

    assert "already resolved" in response.content.decode()
    assert Memory.objects.filter(pk=newer.pk).exists()


def test_members_who_are_not_staff_cannot_resolve(member_client, handoff):
    _, newer = add_contradiction(handoff.entity)
    contradiction = Contradiction.objects.get(entity=handoff.entity)
    member_client.post(
        reverse("dashboard:contradiction_resolve", args=[contradiction.pk]), {"side": "b", "action": "delete"}
    )
    assert Memory.objects.filter(pk=newer.pk).exists()
    assert Contradiction.objects.get(pk=contradiction.pk).resolved_at is None


def test_another_tenants_contradictions_cannot_be_resolved(client, staff_member, outsider_entity):
    older = Memory.objects.filter(entity=outsider_entity).first()
    newer = add_memory(outsider_entity, "spy_agent", "The secret is something else entirely")
    record_memory_contradiction(outsider_entity, older.pk, newer.pk, Contradiction.Reason.EXTRACTOR)
    client.force_login(staff_member)
    response = resolve(client, Contradiction.objects.get(entity=outsider_entity), side="b", action="delete")
    assert response.status_code == 404
    assert Memory.objects.filter(pk=newer.pk).exists()


def test_another_tenants_contradictions_are_404(member_client, client, staff_member, outsider_entity):
    assert member_client.get(reverse("dashboard:contradictions", args=[outsider_entity.pk])).status_code == 404
    older = Memory.objects.filter(entity=outsider_entity).first()
    newer = add_memory(outsider_entity, "spy_agent", "The secret is kept somewhere else entirely")
    record_memory_contradiction(outsider_entity, older.pk, newer.pk, Contradiction.Reason.EXTRACTOR)
    client.force_login(staff_member)
    confirm = client.get(
        reverse("dashboard:contradiction_resolve", args=[Contradiction.objects.get(entity=outsider_entity).pk]),
        {"action": "delete", "side": "a"},
    )
    assert confirm.status_code == 404
