"""Re-extract entities' memory with the current extractor (after upgrading it), keeping people's edits."""

from django.core.management.base import BaseCommand, CommandError

from memory.models import Entity
from memory.services.audit import Actor
from memory.services.reextraction import entity_reextract


class Command(BaseCommand):
    help = (
        "Replace what augmentation stored by what the current extractor stores, entity by entity: "
        "memories and triples people made or edited are kept. Idempotent; audited."
    )

    def add_arguments(self, parser):
        parser.add_argument("--entity", help="Only this entity (its external id); every entity by default.")
        parser.add_argument("--tenant", help="Only entities of this tenant (its name).")

    def handle(self, *args, entity=None, tenant=None, **options):
        entities = Entity.objects.select_related("tenant").order_by("pk")
        if tenant:
            entities = entities.filter(tenant__name=tenant)
        if entity:
            entities = entities.filter(external_id=entity)
            if not entities.exists():
                raise CommandError(f"No entity {entity!r}{' in tenant ' + repr(tenant) if tenant else ''}.")
        actor = Actor(label="command:reextract")
        for one in entities:
            result = entity_reextract(entity=one, actor=actor, progress=self._bar(one))
            self.stdout.write(
                f"\n{one.tenant.name}/{one.external_id}: {result.jobs} exchanges re-extracted "
                f"({result.jobs_failed} failed); memories {result.memories_removed} removed -> "
                f"{result.memories_after} now; triples {result.triples_removed} removed -> {result.triples_after} now"
                + (f"; {result.suppressed} kept away (people had removed them)" if result.suppressed else "")
            )

    def _bar(self, entity):
        def show(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            self.stdout.write(
                f"\r{entity.external_id}: [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", ending=""
            )
            self.stdout.flush()

        return show
