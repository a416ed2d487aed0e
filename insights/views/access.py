"""Who may open a page: a signed-in person holding the page's view permission. Anyone else
signed in gets the no-role page (403) saying how an admin gives a role, never the figures;
anonymous visitors go to the login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEW = "ml.view_clientmonthkpi"  # every role (viewer, manager, admin) holds it


def needs_view(permission: str) -> Callable:
    """Login required; then `permission`, else the no-role page (403) saying how to get one."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(permission):
                return render(request, "insights/no_role.html", status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


# The dashboards' check: any role will do.
needs_role = needs_view(VIEW)
