"""Sessions and conversations recorded before this fix began and last moved when they were first
recorded: an imported or spooled history showed its import time as its start and its last activity.
Both now follow the exchanges' own times."""

from django.db import migrations
from django.db.models import Max, Min, OuterRef, Subquery
from django.db.models.functions import Least


def follow_exchange_times(apps, schema_editor):
    Exchange = apps.get_model("memory", "Exchange")
    for model_name, link, last_field in (
        ("Session", "session", "last_activity_at"),
        ("Conversation", "conversation", "last_message_at"),
    ):
        model = apps.get_model("memory", model_name)
        exchanges = Exchange.objects.filter(**{link: OuterRef("pk")}).order_by().values(link)
        first = exchanges.annotate(at=Min("occurred_at")).values("at")
        last = exchanges.annotate(at=Max("occurred_at")).values("at")
        model.objects.filter(pk__in=Exchange.objects.values(link)).update(
            started_at=Least("started_at", Subquery(first)), **{last_field: Subquery(last)}
        )


class Migration(migrations.Migration):
    dependencies = [("memory", "0008_episodes")]

    operations = [migrations.RunPython(follow_exchange_times, migrations.RunPython.noop)]
