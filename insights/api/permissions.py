"""Rights on /api/v1/ are the roles' Django permissions (insights/roles.py): a view names the
permission that reads it and the one each action needs, so a viewer reads, a manager acts on
leaks and alerts, an admin runs the model registry, and a signed-in person with no role gets 403."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


class RolePermission(BasePermission):
    """`view.read_permission` for safe methods; for the rest the action's entry in
    `view.action_permissions` (default `view.write_permission`). A view without any names no
    permission beyond being signed in."""

    message = "Your role does not allow this; an admin can grant one (manage.py grant USER ROLE)."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        needed = required(request, view)
        return needed is None or user.has_perm(needed)


def required(request, view) -> str | None:
    action = getattr(view, "action", None)
    per_action = getattr(view, "action_permissions", {})
    if action in per_action:
        return per_action[action]
    if request.method in SAFE_METHODS:
        return getattr(view, "read_permission", None)
    return getattr(view, "write_permission", None)
