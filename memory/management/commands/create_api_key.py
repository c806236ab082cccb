from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from memory.models import ApiKey, Tenant
from memory.services.api_keys import api_key_create


class Command(BaseCommand):
    help = "Create an API key for a tenant (created if missing). The raw key is the last line printed."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--read-only", action="store_true", help="A key that can only read and recall.")

    def handle(self, *args, tenant: str, name: str, read_only: bool, **options) -> None:
        tenant_obj, _ = Tenant.objects.get_or_create(name=tenant)
        scope = ApiKey.Scope.READ_ONLY if read_only else ApiKey.Scope.READ_WRITE
        try:
            _, raw_key = api_key_create(tenant=tenant_obj, name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stderr.write(f"Created {scope} key {name!r} for tenant {tenant!r}. It is shown once:")
        self.stdout.write(raw_key)
