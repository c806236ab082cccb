"""Recall (what an agent injects before an LLM call) and augmentation job status/retry."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from memory.api import handlers
from memory.api.base import TenantAPIView, is_db_id
from memory.api.schema import ErrorSerializer
from memory.api.serializers.operations import (
    JobSerializer,
    JobsQuerySerializer,
    JobsStatusSerializer,
    RecallInputSerializer,
    RecallOutputSerializer,
)


class RecallView(TenantAPIView):
    read_only_allowed = True  # a read-only key creates nothing: its recall is an event of an existing process, or none

    @extend_schema(
        operation_id="recall",
        summary="Recall memory for an LLM call: ranked memories, pending context and the block to inject",
        request=RecallInputSerializer,
        responses={200: RecallOutputSerializer},
    )
    def post(self, request):
        body = handlers.recall_answer(
            tenant=self.tenant, payload=request.data, may_write=request.user.api_key.can_write
        )
        return Response(body)


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
        return Response(handlers.jobs_status_answer(tenant=self.tenant, params=request.query_params))


class JobRetryView(TenantAPIView):
    @extend_schema(
        operation_id="jobs_retry",
        summary="Queue a failed or stuck augmentation job again",
        request=None,
        responses={202: JobSerializer},
    )
    def post(self, request, job_id: int):
        if not is_db_id(job_id):
            raise NotFound(f"No augmentation job with id {job_id}.")
        return Response(handlers.job_retry(tenant=self.tenant, job_id=job_id), status=status.HTTP_202_ACCEPTED)
