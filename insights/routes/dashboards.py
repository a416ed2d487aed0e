"""URLs of the dashboards pages: a client's page, the source rows behind its figures, and the
records behind a leak finding (the portfolio page is insights:home, in insights/urls.py)."""

from django.urls import path, re_path

from insights.views import client, sources

urlpatterns: list = [
    path("clients/<int:client_id>/", client.client_page, name="client"),
    re_path(r"^clients/(?P<client_id>\d+)/sources/(?P<month>\d{4}-\d{2})/(?P<figure>[a-z_]+)/$",
            sources.client_sources, name="client-sources"),
    path("leaks/<int:finding_id>/sources/", sources.leak_sources, name="leak-sources"),
]
