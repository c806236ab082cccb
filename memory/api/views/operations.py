"""Recall (what an agent injects before an LLM call) and augmentation job status/retry."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from memory import selectors
from memory.api.base import TenantAPIView, is_db_id
from memory.api.errors import Conflict
from memory.api.schema import ErrorSerializer
from memory.api.serializers.operations import (
    JobSerializer,
    JobsQuerySerializer,
    JobsStatusSerializer,
    RecallInputSerializer,
    RecallOutputSerializer,
)
from memory.services.identity import InvalidIdentifier
from memory.services.jobs_status import UnknownJobs, jobs_status
from memory.services.publishing import jobs_retry


class RecallView(TenantAPIView):
    read_only_allowed = True  # a read-only key creates nothing: its recall is an event of an existing process, or none

    @extend_schema(
        operation_id="recall",
        summary="Recall memory for an LLM call: ranked memories, pending context and the block to inject",
        request=RecallInputSerializer,
        responses={200: RecallOutputSerializer},
    )
    def post(self, request):
        from memory.services.recall import recall_for_call

        serializer = RecallInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        recall_request = serializer.to_recall_request(self.tenant)
        recall_request.may_write = request.user.api_key.can_write
        try:
            result = recall_for_call(recall_request)
        except InvalidIdentifier as exc:
            raise ValidationError({"non_field_errors": [str(exc)]})
        return Response(RecallOutputSerializer(result).data)


class JobsStatusView(TenantAPIView):
    @extend_schema(
        operation_id="jobs_status",
        summary="Status of augmentation jobs; with `wait`, held until all are finished (at most 30 s)",
        parameters=[JobsQuerySerializer],
        responses={
            200: JobsStatusSerializer,
            404: OpenApiResponse(ErrorSerializer, description="A job id is unknown (or another tenant's)."),
        },
    )
    def get(self, request):
        query = JobsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            result = jobs_status(
                tenant=self.tenant, ids=query.validated_data["ids"], wait_seconds=query.validated_data["wait"]
            )
        except UnknownJobs as exc:
            raise NotFound(str(exc))
        return Response(JobsStatusSerializer({"jobs": result.jobs, "pending": result.pending}).data)


class JobRetryView(TenantAPIView):
    @extend_schema(
        operation_id="jobs_retry",
        summary="Queue a failed or stuck augmentation job again",
        request=None,
        responses={202: JobSerializer},
    )
    def post(self, request, job_id: int):
        job = selectors.job_get(tenant=self.tenant, job_id=job_id) if is_db_id(job_id) else None
        if job is None:
            raise NotFound(f"No augmentation job with id {job_id}.")
        if job.status == job.Status.DONE:
            raise Conflict(f"job {job_id} is already done; only failed or stuck jobs can be retried.")
        jobs_retry([job.pk])
        job.refresh_from_db()
        return Response(JobSerializer(job).data, status=status.HTTP_202_ACCEPTED)
