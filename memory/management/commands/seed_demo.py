from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from memory.models import ApiKey, Tenant, hash_api_key
from memory.services.api_keys import api_key_create

DEMO_TENANT = "demo"
DEMO_ADMIN = ("admin", "admin")


def demo_key_file():
    return settings.VAR_DIR / "demo_api_key"


def _kept_key_works(tenant: Tenant) -> bool:
    """The key kept in var/ belongs to this database (not to one that was deleted since)."""
    key_file = demo_key_file()
    if not key_file.exists():
        return False
    key_hash = hash_api_key(key_file.read_text().strip())
    return ApiKey.objects.filter(tenant=tenant, key_hash=key_hash, revoked_at__isnull=True).exists()


class Command(BaseCommand):
    help = "Create the local demo: tenant 'demo', staff user admin/admin, an API key (kept in var/)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--skip-if-not-empty", action="store_true")

    def handle(self, *args, skip_if_not_empty: bool, **options) -> None:
        if not settings.MEMORI_DEMO:
            raise CommandError(
                "The demo (user admin/admin, an API key kept in var/) is off: MEMORI_DEMO is off, as it is "
                "by default with DEBUG off. Set MEMORI_DEMO=1 to create it anyway."
            )
        if skip_if_not_empty and Tenant.objects.exists():
            return
        tenant, _ = Tenant.objects.get_or_create(name=DEMO_TENANT)
        user_model = get_user_model()
        username, password = DEMO_ADMIN
        if not user_model.objects.filter(username=username).exists():
            user_model.objects.create_superuser(username=username, password=password, email="admin@example.com")
        tenant.members.add(user_model.objects.get(username=username))
        if not _kept_key_works(tenant):
            ApiKey.objects.filter(tenant=tenant, name="demo-agents").delete()
            _, raw_key = api_key_create(tenant=tenant, name="demo-agents")
            demo_key_file().write_text(raw_key)
        self.stdout.write("Demo tenant, admin user and API key are ready.")
