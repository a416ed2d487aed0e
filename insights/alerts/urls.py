"""/alerts/: the page, its POST buttons and the small JSON API."""

from django.urls import path

from . import api, views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("<int:pk>/acknowledge/", views.acknowledge_view, name="acknowledge"),
    path("<int:pk>/resolve/", views.resolve_view, name="resolve"),
    path("api/", api.alert_list, name="api-list"),
    path("api/<int:pk>/", api.alert_detail, name="api-detail"),
    path("api/<int:pk>/acknowledge/", api.alert_acknowledge, name="api-acknowledge"),
    path("api/<int:pk>/resolve/", api.alert_resolve, name="api-resolve"),
]
