"""Who may read the dashboards: a signed-in person holding the viewer's view permission on the
KPI store (every role holds it). Anyone else signed in gets the no-role page (403) saying how
an admin gives a role, never the book's figures; anonymous visitors go to the login page."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

VIEW = "ml.view_clientmonthkpi"  # every role (viewer, manager, admin) holds it


def needs_role(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.has_perm(VIEW):
            return render(request, "insights/no_role.html", status=403)
        return view(request, *args, **kwargs)

    return guarded
