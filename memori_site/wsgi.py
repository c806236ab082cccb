import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "memori_site.settings")
application = get_wsgi_application()

# Import every view now, at worker start: otherwise each new web worker answers its first request
# ~300 ms late (the URLconf pulls in DRF, NumPy and the dashboard on first use).
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - evaluated for its import side effect
