"""Exchanges counted per (entity, process, hour): what the dashboard's overview sums.

Counting every exchange of a 90-day range at each look at the overview costs more than a page may;
these rows are a few per busy hour instead. They are written in the transaction that records or
removes an exchange (memory/services/activity_counts.py), so they are exact at every moment, late writes into
the past included, and the overview sums them for the hours a range covers fully.
"""

from __future__ import annotations

from django.db import models

from memory.models.identity import Entity, Process


class HourlyExchanges(models.Model):
    entity = models.ForeignKey(Entity, on_delete=models.CASCADE, related_name="+")
    process = models.ForeignKey(Process, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()  # the start of the UTC hour the exchanges occurred in
    exchanges = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "hourly exchanges"
        constraints = [
            # Also the index the overview reads: per entity, a range of hours.
            models.UniqueConstraint(fields=["entity", "hour", "process"], name="hourly_exchanges_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exchanges} exchanges of process {self.process_id} on entity {self.entity_id} at {self.hour}"
