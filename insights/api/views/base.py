"""What every /api/v1/ view shares: token first (so an anonymous caller gets 401 with
`WWW-Authenticate: Token`), rights from the roles' permissions, and a throttle scope per action:
reads "read", actions "write"; a view may name others ("predict", "batch")."""

from __future__ import annotations

from rest_framework import exceptions, viewsets
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.views import APIView

from ..permissions import RolePermission
from ..throttles import ScopeThrottle


class ApiMixin:
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [RolePermission]
    throttle_classes = [ScopeThrottle]
    read_permission: str | None = None
    write_permission: str | None = None
    action_permissions: dict[str, str] = {}
    action_scopes: dict[str, str] = {}  # action -> throttle scope, besides read / write

    @property
    def throttle_scope(self) -> str:
        action = getattr(self, "action", None)
        if action in self.action_scopes:
            return self.action_scopes[action]
        return "read" if self.request.method in SAFE_METHODS else "write"


class ReadOnlyViewSet(ApiMixin, viewsets.ReadOnlyModelViewSet):
    pass


class GenericViewSet(ApiMixin, viewsets.GenericViewSet):
    pass


class NotFoundView(APIView):
    """Any other path under /api/v1/: a 404 in the API's error format, not Django's HTML page."""

    schema = None
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []

    def initial(self, request, *args, **kwargs):
        raise exceptions.NotFound(f"No endpoint at {request.path}; see /api/v1/docs/ for the list.")
