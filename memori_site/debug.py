"""What Django's debug pages and error reports may show: settings and request data with their
credentials masked, including passwords inside connection URLs (DATABASE_URL, CELERY_BROKER_URL,
CACHE_URL...), which Django's own filter shows in full because their names say nothing secret."""

from __future__ import annotations

import re
from pprint import pformat

from django.views.debug import SafeExceptionReporterFilter

# Connection URLs: scheme://user:password@host — the password part.
URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^:@/\s]*:)(?P<password>[^@/\s]+)(?P<tail>@)", re.I)
# Query-string credentials: ?password=...&token=...
QUERY_SECRET = re.compile(
    r"(?P<head>[?&;](?:password|passwd|pwd|secret|token|api_?key|key)=)(?P<password>[^&;\s]+)", re.I
)


def mask_credentials(text: str, substitute: str = SafeExceptionReporterFilter.cleansed_substitute) -> str:
    text = URL_PASSWORD.sub(lambda m: m["head"] + substitute + m["tail"], text)
    return QUERY_SECRET.sub(lambda m: m["head"] + substitute, text)


def _masked(value):
    """A string (or a lazy one) with its credentials masked; any other value as it is."""
    if not isinstance(value, str):
        return value
    masked = mask_credentials(str(value))
    return value if masked == str(value) else masked


class _Shown:
    """A variable as the debug page prints it, credentials masked."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _masked_variable(value):
    try:
        shown = pformat(value)
    except Exception:  # the debug page prints its own "Error in formatting"
        return value
    masked = mask_credentials(shown)
    return value if masked == shown else _Shown(masked)


class CredentialsHidingFilter(SafeExceptionReporterFilter):
    """Django's filter (names with API, AUTH, TOKEN, KEY, SECRET, PASS, SIGNATURE, COOKIE), also masking
    names with CREDENTIAL or DSN, and the password in any connection URL whatever its name, in
    settings, request headers and environment, and the traceback's local variables (a dictionary's
    values under such names, and any URL password in what a variable prints)."""

    hidden_settings = re.compile("API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|CREDENTIAL|DSN", flags=re.I)

    def cleanse_setting(self, key, value):
        return _masked(super().cleanse_setting(key, value))

    def get_traceback_frame_variables(self, request, tb_frame):
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [(name, _masked_variable(self.cleanse_setting("", value))) for name, value in variables]
