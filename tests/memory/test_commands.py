import io

import pytest
from django.core.management import call_command

from memory.models import ApiKey, Tenant, hash_api_key

pytestmark = pytest.mark.django_db


def test_create_api_key_prints_the_raw_key_as_its_last_line():
    out = io.StringIO()
    call_command("create_api_key", "--tenant", "acme", "--name", "agents", stdout=out, stderr=io.StringIO())

    raw_key = out.getvalue().strip().splitlines()[-1]
    api_key = ApiKey.objects.get(tenant__name="acme", name="agents")
    assert api_key.key_hash == hash_api_key(raw_key)
    assert Tenant.objects.filter(name="acme").exists()
