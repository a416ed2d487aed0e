from django.urls import path

from . import views
from .routes import dashboards, forecasts, lists

app_name = "insights"
urlpatterns = [
    path("", views.home, name="home"),
    *dashboards.urlpatterns,
    *lists.urlpatterns,
    *forecasts.urlpatterns,
]
