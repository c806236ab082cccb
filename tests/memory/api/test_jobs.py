"""Augmentation job status (what SDK wait() polls), the bounded server-side wait, and retry."""

from __future__ import annotations

from django.utils import timezone

from memory.models import AugmentationJob
from tests.memory.api.conftest import assert_error, record


def _finish(job_id: int, status: str = "done", error: str = "") -> None:
    AugmentationJob.objects.filter(pk=job_id).update(status=status, error=error, finished_at=timezone.now())


def test_it_reports_status_and_how_many_are_pending(api):
    first, second = record(api, "one"), record(api, "two")
    _finish(first["job_id"])

    response = api.get(f"/api/v1/jobs/?ids={first['job_id']},{second['job_id']}")

    assert response.status_code == 200
    body = response.json()
    assert body["pending"] == 1
    assert {job["id"]: job["status"] for job in body["jobs"]} == {first["job_id"]: "done", second["job_id"]: "queued"}


def test_with_wait_it_answers_as_soon_as_all_are_finished(api):
    job_id = record(api)["job_id"]
    _finish(job_id, "failed", "extractor crashed")

    body = api.get(f"/api/v1/jobs/?ids={job_id}&wait=30").json()

    assert body["pending"] == 0
    assert body["jobs"][0]["error"] == "extractor crashed"


def test_the_wait_is_bounded_and_returns_what_is_still_pending(api, settings):
    settings.MEMORI_JOBS_MAX_WAIT_SECONDS = 0.3
    job_id = record(api)["job_id"]

    body = api.get(f"/api/v1/jobs/?ids={job_id}&wait=30").json()

    assert body["pending"] == 1


def test_it_validates_ids_and_wait(api):
    invalid = ("", "ids=", "ids=a,b", "ids=-1", "ids=0", "ids=1,,2", "ids=1,", "ids=%C2%B2", "ids=" + "1," * 1800 + "1")
    for query in (*invalid, "ids=1&wait=-1", "ids=1&wait=31", "ids=1&wait=soon"):
        assert_error(api.get(f"/api/v1/jobs/?{query}"), 400, "invalid")


def test_another_tenants_jobs_are_404(api, other_api):
    job_id = record(other_api)["job_id"]
    assert_error(api.get(f"/api/v1/jobs/?ids={job_id}"), 404, "not_found")
    assert_error(api.post(f"/api/v1/jobs/{job_id}/retry/"), 404, "not_found")


def test_a_failed_job_can_be_retried(api, django_capture_on_commit_callbacks):
    job_id = record(api)["job_id"]
    AugmentationJob.objects.filter(pk=job_id).update(status="failed", attempts=5, error="boom")

    response = api.post(f"/api/v1/jobs/{job_id}/retry/")

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    job = AugmentationJob.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.error) == ("queued", 0, "")


def test_a_done_job_is_not_retried(api):
    job_id = record(api)["job_id"]
    _finish(job_id)
    assert_error(api.post(f"/api/v1/jobs/{job_id}/retry/"), 409, "conflict")


def test_a_read_only_key_cannot_retry(api, read_only_api):
    job_id = record(api)["job_id"]
    assert_error(read_only_api.post(f"/api/v1/jobs/{job_id}/retry/"), 403)
