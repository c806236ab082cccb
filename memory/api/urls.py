"""The REST API, mounted at /api/v1/ (see the endpoint list in the README)."""

from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from memory.api import schema  # noqa: F401  (registers the API key security scheme)
from memory.api.docs import PublicSchemaView, SwaggerAssetView, SwaggerDocsView
from memory.api.views.directory import (
    ConversationMessagesView,
    ConversationViewSet,
    EntityDetailView,
    EntityListView,
    ProcessDetailView,
    ProcessListView,
    SessionViewSet,
)
from memory.api.views.exchanges import ExchangeBulkView, ExchangeCreateView
from memory.api.views.export import EntityExportView, EntityImportView
from memory.api.views.health import HealthView, UnknownEndpointView
from memory.api.views.memories import AttributeViewSet, MemoryViewSet, TripleViewSet
from memory.api.views.operations import JobRetryView, JobsStatusView, RecallView

router = SimpleRouter()
router.register("memories", MemoryViewSet, basename="memory")
router.register("attributes", AttributeViewSet, basename="attribute")
router.register("triples", TripleViewSet, basename="triple")
router.register("sessions", SessionViewSet, basename="session")
router.register("conversations", ConversationViewSet, basename="conversation")

urlpatterns = [
    path("health/", HealthView.as_view(), name="api-health"),
    path("exchanges/", ExchangeCreateView.as_view(), name="api-exchanges"),
    path("exchanges/bulk/", ExchangeBulkView.as_view(), name="api-exchanges-bulk"),
    path("recall/", RecallView.as_view(), name="api-recall"),
    path("jobs/", JobsStatusView.as_view(), name="api-jobs"),
    path("jobs/<int:job_id>/retry/", JobRetryView.as_view(), name="api-job-retry"),
    path("conversations/<int:pk>/messages/", ConversationMessagesView.as_view(), name="api-conversation-messages"),
    path("entities/", EntityListView.as_view(), name="api-entities"),
    path("entities/import/", EntityImportView.as_view(), name="api-entity-import"),
    re_path(r"^entities/(?P<external_id>[\s\S]+)/export/$", EntityExportView.as_view(), name="api-entity-export"),
    re_path(r"^entities/(?P<external_id>[\s\S]+)/$", EntityDetailView.as_view(), name="api-entity"),
    path("processes/", ProcessListView.as_view(), name="api-processes"),
    re_path(r"^processes/(?P<external_id>[\s\S]+)/$", ProcessDetailView.as_view(), name="api-process"),
    path("schema/", PublicSchemaView.as_view(), name="api-schema"),
    path("docs/", SwaggerDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("docs/assets/<str:filename>", SwaggerAssetView.as_view(), name="api-docs-asset"),
    *router.urls,
    re_path(r"^[\s\S]*$", UnknownEndpointView.as_view(), name="api-unknown"),
]
