"""Redoc without its stock template's Google Fonts links: every byte of the API's docs comes
from this server (the sidecar's redoc.standalone.js under /static/), so they work offline and
tell no third party who reads them. The page falls back to the system's sans-serif fonts."""

from __future__ import annotations

from django.http import HttpResponse
from django.template import Context, Template
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView

PAGE = Template("""<!DOCTYPE html>
<html>
  <head>
    <title>{{ title }}</title>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <style>body { margin: 0; padding: 0; }</style>
  </head>
  <body>
    <redoc spec-url="{{ schema_url }}"></redoc>
    <script src="{{ redoc_standalone }}"></script>
  </body>
</html>
""")


class RedocView(SpectacularRedocView):
    @extend_schema(exclude=True)
    def get(self, request, *args, **kwargs):
        context = Context({"title": self.title, "redoc_standalone": self._redoc_standalone(),
                           "schema_url": self._get_schema_url(request)})
        return HttpResponse(PAGE.render(context))
