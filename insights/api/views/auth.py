"""`POST /api/v1/auth/token/`: username and password in, the person's API token out (made
once, the same on every call), for `Authorization: Token <key>`."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken

from ..throttles import ScopeThrottle


class TokenView(ObtainAuthToken):
    authentication_classes: list = []
    throttle_classes = [ScopeThrottle]
    throttle_scope = "write"  # also slows down password guessing

    @extend_schema(
        summary="Get your API token",
        description="Send a username and password (JSON or form); the answer is the person's token. Use it as "
                    "`Authorization: Token <token>`. Wrong credentials answer 400 in the error format.",
        request=AuthTokenSerializer,
        responses=inline_serializer("Token", {"token": serializers.CharField()}),
        examples=[OpenApiExample("Credentials", request_only=True,
                                 value={"username": "mike-manager", "password": "..."}),
                  OpenApiExample("Token", response_only=True,
                                 value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"})],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
