from rest_framework import permissions

from memory.api.auth import TenantPrincipal


class HasTenantApiKey(permissions.BasePermission):
    """An API key is required; read-only keys may only use safe methods (and recall)."""

    message = "This API key is read-only; use a read-write key for this request."

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, TenantPrincipal):
            return False
        if request.method in permissions.SAFE_METHODS or getattr(view, "read_only_allowed", False):
            return True
        return principal.api_key.can_write
