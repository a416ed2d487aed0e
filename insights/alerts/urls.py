"""/alerts/: the page and its POST buttons (the JSON API is /api/v1/alerts/)."""

from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:pk>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("<int:pk>/resolve/", views.resolve_view, name="resolve"),
]
