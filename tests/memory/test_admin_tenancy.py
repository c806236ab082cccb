"""The admin inside the tenant (issue #16, item 5): a staff member of acme, holding every permission
of the memory app, sees, opens, picks and filters only acme's rows in every admin; globex's rows
(every name and text of them says "globex") never show. A superuser sees both.

The walks go through every registered admin, so an admin added later is checked without a new test.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.forms import ModelChoiceField
from django.test import RequestFactory
from django.urls import reverse

from memory.admin_tenancy import TenantScopedAdmin, TenantScopedMixin, is_tenant_data, tenant_path
from memory.models import ApiKey, Entity, Memory, Process, Session, Tenant
from tests.support.tenant_world import build_tenant_world, staff_member_of

pytestmark = pytest.mark.django_db

SECRET = "globex"


def tenant_admins() -> list[tuple[type, admin.ModelAdmin]]:
    return [(model, model_admin) for model, model_admin in admin.site._registry.items() if is_tenant_data(model)]


def rows_of(model, tenant: Tenant) -> list[int]:
    path = tenant_path(model)
    lookup = "pk" if path == "" else path
    return list(model._default_manager.filter(**{lookup: tenant.pk}).values_list("pk", flat=True).distinct())


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def acme(tenant):
    return build_tenant_world(tenant, "acme")


@pytest.fixture
def globex(other_tenant):
    return build_tenant_world(other_tenant, SECRET)


@pytest.fixture
def member_client(client, tenant):
    client.force_login(staff_member_of(tenant, "acme_lead"))
    return client


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "root-pass-1"))
    return client


def test_every_model_of_the_memory_app_belongs_to_a_tenant_and_its_admin_is_scoped():
    memory_models = set(apps.get_app_config("memory").get_models())
    assert all(is_tenant_data(model) for model in memory_models), [
        model.__name__ for model in memory_models if not is_tenant_data(model)
    ]
    for model, model_admin in tenant_admins():
        assert isinstance(model_admin, TenantScopedAdmin), model.__name__
        for inline in model_admin.inlines:
            assert issubclass(inline, TenantScopedMixin), f"{model.__name__}: {inline.__name__}"
    assert {model for model, _ in tenant_admins()} >= memory_models


def test_the_other_tenant_has_a_row_in_every_admin(acme, globex):
    """The walks below would pass on an empty table: every admin has a globex row to leak."""
    for model, _ in tenant_admins():
        assert rows_of(model, globex.tenant), model.__name__
        assert rows_of(model, acme.tenant), model.__name__


def test_a_member_lists_only_their_tenants_rows_in_every_admin(acme, globex, member_client):
    for model, _ in tenant_admins():
        response = member_client.get(url(model, "changelist"))

        assert response.status_code == 200, model.__name__
        listed = {row.pk for row in response.context["cl"].result_list}
        assert listed and listed <= set(rows_of(model, acme.tenant)), model.__name__
        assert SECRET not in response.content.decode().lower(), model.__name__  # rows, filters, search


def test_a_superuser_lists_every_tenants_rows(acme, globex, superuser_client):
    for model, _ in tenant_admins():
        page = superuser_client.get(url(model, "changelist")).content.decode().lower()
        assert SECRET in page and "acme" in page, model.__name__


def test_another_tenants_rows_are_not_found_on_their_change_delete_and_history_pages(acme, globex, member_client):
    for model, _ in tenant_admins():
        theirs, ours = rows_of(model, globex.tenant)[0], rows_of(model, acme.tenant)[0]
        for view in ("change", "delete", "history"):
            assert member_client.get(url(model, view, theirs)).status_code == 404, f"{model.__name__} {view}"
            assert member_client.get(url(model, view, ours)).status_code in (200, 403), f"{model.__name__} {view}"
        member_client.post(url(model, "delete", theirs), {"post": "yes"})
        assert model._default_manager.filter(pk=theirs).exists(), model.__name__


def test_a_missing_id_and_another_tenants_id_get_the_same_answer(acme, globex, member_client):
    missing = member_client.get(url(Memory, "change", 987654))
    theirs = member_client.get(url(Memory, "change", globex.memory.pk))

    assert missing.status_code == theirs.status_code == 404


def test_add_forms_offer_only_the_users_tenants_rows(acme, globex, member_client, tenant):
    request = RequestFactory().get("/")
    request.user = staff_member_of(tenant, "acme_reviewer")
    for model, model_admin in tenant_admins():
        if not model_admin.has_add_permission(request):
            continue
        page = member_client.get(url(model, "add"))
        assert page.status_code == 200, model.__name__
        assert SECRET not in page.content.decode().lower(), model.__name__
        for name, form_field in model_admin.get_form(request)().fields.items():
            if isinstance(form_field, ModelChoiceField) and is_tenant_data(form_field.queryset.model):
                related = form_field.queryset.model
                offered = set(form_field.queryset.values_list("pk", flat=True))
                theirs_only = set(rows_of(related, globex.tenant)) - set(rows_of(related, acme.tenant))
                assert theirs_only and not offered & theirs_only, f"{model.__name__}.{name}"


def test_an_add_form_refuses_a_row_in_another_tenant(acme, globex, member_client):
    key = member_client.post(url(ApiKey, "add"), {"tenant": globex.tenant.pk, "name": "sneaky", "scope": "read_write"})
    memory = member_client.post(
        url(Memory, "add"),
        {"entity": globex.entity.pk, "kind": "fact", "content": "Globex is hiring", **empty_inline("mentions")},
    )

    assert "Select a valid choice" in key.content.decode()
    assert "Select a valid choice" in memory.content.decode()
    assert not ApiKey.objects.filter(name="sneaky").exists()
    assert not Memory.objects.filter(content="Globex is hiring").exists()


def test_a_raw_id_field_does_not_name_another_tenants_row(acme, globex, member_client):
    response = member_client.post(url(Session, "add"), {"entity": globex.entity.pk, "process": acme.process.pk})

    page = response.content.decode()
    assert "Select a valid choice" in page
    assert SECRET not in page.lower()
    assert not Session.objects.filter(entity=globex.entity, process=acme.process).exists()


def test_a_member_of_two_tenants_cannot_join_rows_of_both(acme, globex, client, tenant, other_tenant):
    user = staff_member_of(tenant, "both_lead")
    other_tenant.members.add(user)
    client.force_login(user)

    response = client.post(url(Session, "add"), {"entity": globex.entity.pk, "process": acme.process.pk})

    assert "belong to different tenants" in response.content.decode()
    assert not Session.objects.filter(entity=globex.entity, process=acme.process).exists()


def test_autocomplete_offers_only_the_users_tenants_rows(acme, globex, member_client):
    for field_name, model in (("entity", Entity), ("owner_process", Process)):
        response = member_client.get(
            reverse("admin:autocomplete"),
            {"app_label": "memory", "model_name": "memory", "field_name": field_name, "term": ""},
        )
        offered = {int(item["id"]) for item in response.json()["results"]}
        assert offered and offered <= set(rows_of(model, acme.tenant)), field_name


def test_filtering_or_acting_on_another_tenants_ids_finds_nothing(acme, globex, member_client):
    changelist = url(Memory, "changelist")
    filtered = member_client.get(changelist, {"entity__id__exact": globex.entity.pk})
    member_client.post(changelist, {"action": "delete_selected", "_selected_action": [globex.memory.pk], "post": "yes"})

    assert list(filtered.context["cl"].result_list) == []
    assert Memory.objects.filter(pk=globex.memory.pk).exists()


def test_a_member_cannot_create_a_tenant_nor_rename_a_shared_predicate(acme, member_client):
    assert member_client.get(url(Tenant, "add")).status_code == 403
    predicate = acme.entity.triples.first().predicate
    response = member_client.post(url(type(predicate), "change", predicate.pk), {"name": "renamed"})
    assert response.status_code == 403
    predicate.refresh_from_db()
    assert predicate.name != "renamed"


def empty_inline(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
