"""URLs of the lists pages: clients, revenue leaks (with the recovery workflow's actions),
churn risk, segments and the model registry (with a training run's live progress)."""

from django.urls import path

from insights.views import churn, clients_list, leaks, models_page, segments

urlpatterns: list = [
    path("clients/", clients_list.clients_list, name="clients"),
    path("leaks/", leaks.leak_list, name="leaks"),
    path("leaks/<int:pk>/", leaks.leak_detail, name="leak"),
    path("leaks/<int:pk>/action/", leaks.leak_action, name="leak-action"),
    path("churn/", churn.churn_page, name="churn"),
    path("churn/interventions/", churn.log_intervention, name="churn-intervention"),
    path("segments/", segments.segments_page, name="segments"),
    path("models/", models_page.models_page, name="models"),
    path("models/action/", models_page.model_action, name="model-action"),
    path("models/runs/<int:pk>/progress/", models_page.training_progress, name="training-progress"),
]
