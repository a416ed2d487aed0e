"""One error format for every failure of /api/v1/ (REST_FRAMEWORK["EXCEPTION_HANDLER"]):

    {"error": {"status": 404, "code": "not_found", "message": "...", "fields": {...}}}

`fields` is only present for validation errors (field name -> list of messages). An exception
the API did not expect is logged and answered 500 in the same format, never a Django HTML page.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    """The request is valid but the resource's state refuses it (a final leak finding, no
    trained model yet)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The resource's current state does not allow this."
    default_code = "conflict"


class NoModel(Conflict):
    default_detail = "No model of this kind is active yet: train one first."
    default_code = "no_active_model"


def _message(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_message(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_message(v)}" for k, v in detail.items())
    return str(detail)


def body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    error = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    return {"error": error}


def handler(exc, context) -> Response:
    """DRF's handler (headers such as Retry-After and WWW-Authenticate kept), then the body
    reshaped; anything else becomes a 500 in the same format."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or None)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        view = context.get("view")
        logger.exception("Unhandled error in %s", type(view).__name__ if view else "the API", exc_info=exc)
        return Response(body(500, "server_error", "The server failed to answer; the error is logged."),
                        status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = body(response.status_code, "invalid", "The request is not valid: " + _message(detail),
                             {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()})
        return response
    code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
    if not isinstance(code, str):
        code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.Throttled):
        code = "throttled"
    response.data = body(response.status_code, code, _message(getattr(exc, "detail", str(exc))))
    return response
