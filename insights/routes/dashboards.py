"""URLs of the dashboards pages."""

urlpatterns: list = []
