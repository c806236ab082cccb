"""Run queued augmentation jobs in this process, without a worker (operators, tests, backfills)."""

from django.core.management.base import BaseCommand

from memory.services.augmentation import jobs_backfill
from memory.services.job_queue import pending_job_ids


class Command(BaseCommand):
    help = "Run queued augmentation jobs inline, oldest first, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Run at most this many jobs.")

    def handle(self, *args, limit=None, **options):
        counts = {"done": 0, "failed": 0, "retry": 0, "skipped": 0}
        for job_id, outcome in jobs_backfill(pending_job_ids(limit=limit)).items():
            if outcome.retry_reason:
                self.stderr.write(f"job {job_id}: {outcome.retry_reason} (left queued)")
                counts["retry"] += 1
                continue
            counts[outcome.status if not outcome.skipped else "skipped"] += 1
            if outcome.status == "failed":
                self.stderr.write(f"job {job_id} failed")
        summary = ", ".join(f"{value} {key}" for key, value in counts.items())
        self.stdout.write(f"Augmented pending jobs: {summary}.")
