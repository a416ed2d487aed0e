"""/api/v1/: the router's endpoints, the token, the OpenAPI schema and its interactive docs
(served from the sidecar's static files, never a CDN), and a 404 in the API's error format for
any other path."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import views
from .docs import RedocView
from .schema import ApiGenerator

app_name = "api"

router = SimpleRouter()
router.register("clients", views.ClientViewSet, basename="client")
router.register("predictions", views.PredictionViewSet, basename="prediction")
router.register("jobs", views.JobViewSet, basename="job")
router.register("leaks", views.LeakFindingViewSet, basename="leakfinding")
router.register("alerts", views.AlertViewSet, basename="alert")
router.register("model-versions", views.ModelVersionViewSet, basename="modelversion")
router.register("training-runs", views.TrainingRunViewSet, basename="trainingrun")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(generator_class=ApiGenerator), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", RedocView.as_view(url_name="api:schema"), name="redoc"),
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("", include(router.urls)),
    # Demand forecasts and capacity (issue 14) keep their own module.
    path("", include("insights.api.forecasts")),
    # Last: any other path under /api/v1/ is a 404 in the error format.
    re_path(r"^.*$", views.NotFoundView.as_view(), name="not-found"),
]
