"""Integration endpoints, included at integrations/."""

from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("quickbooks/connect/", views.quickbooks_connect, name="quickbooks_connect"),
    path("quickbooks/callback/", views.quickbooks_callback, name="quickbooks_callback"),
    path("quickbooks/webhook", views.quickbooks_webhook, name="quickbooks_webhook"),
    path("quickbooks/webhook/", views.quickbooks_webhook),
]
