"""The OpenAPI schema and Swagger UI, public and served without any CDN.

The Swagger UI files come from the drf-spectacular-sidecar package and are served by this module,
so the docs work on machines with no internet access and need no extra INSTALLED_APPS entry.
"""

from __future__ import annotations

from pathlib import Path

import drf_spectacular_sidecar
from django.http import FileResponse, Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

SWAGGER_DIST = Path(drf_spectacular_sidecar.__file__).parent / "static" / "drf_spectacular_sidecar" / "swagger-ui-dist"
SWAGGER_FILES = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
}


class PublicSchemaView(SpectacularAPIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


class SwaggerDocsView(SpectacularSwaggerView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []
    title = "Memori API"

    @staticmethod
    def _swagger_ui_resource(filename):
        return reverse("api-docs-asset", args=[filename])

    @staticmethod
    def _swagger_ui_favicon():
        return reverse("api-docs-asset", args=["favicon-32x32.png"])


class SwaggerAssetView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []

    @extend_schema(exclude=True)
    def get(self, request, filename: str):
        if filename not in SWAGGER_FILES:
            raise Http404
        response = FileResponse((SWAGGER_DIST / filename).open("rb"), content_type=SWAGGER_FILES[filename])
        response["Cache-Control"] = "public, max-age=86400"
        return response
