"""/api/v1/: the router's endpoints, the OpenAPI schema and its interactive docs (served from
the sidecar's static files, never a CDN)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    # Demand forecasts and capacity (issue 14) keep their own module.
    path("", include("insights.api.forecasts")),
]
