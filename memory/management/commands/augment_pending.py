"""Run queued augmentation jobs in this process, without a worker (operators, tests, backfills)."""

from django.core.management.base import BaseCommand

from memory.services.augmentation import RetryableJobError, augment_job, pending_job_ids


class Command(BaseCommand):
    help = "Run queued augmentation jobs inline, oldest first."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=None, help="Run at most this many jobs.")

    def handle(self, *args, limit=None, **options):
        counts = {"done": 0, "failed": 0, "retry": 0, "skipped": 0}
        for job_id in pending_job_ids(limit=limit):
            try:
                outcome = augment_job(job_id)
            except RetryableJobError as exc:
                self.stderr.write(f"job {job_id}: {exc.reason} (left queued)")
                counts["retry"] += 1
                continue
            counts[outcome.status if not outcome.skipped else "skipped"] += 1
            if outcome.status == "failed":
                self.stderr.write(f"job {job_id} failed")
        summary = ", ".join(f"{value} {key}" for key, value in counts.items())
        self.stdout.write(f"Augmented pending jobs: {summary}.")
