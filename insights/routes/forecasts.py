"""URLs of the demand pages (issue 14): the forecasts, the capacity gap, a client's outlook."""

from django.urls import path

from ..views import forecasts

urlpatterns = [
    path("forecasts/", forecasts.forecasts, name="forecasts"),
    path("forecasts/clients/<int:client_id>/", forecasts.client_outlook, name="client-forecast"),
    path("capacity/", forecasts.capacity, name="capacity"),
]
