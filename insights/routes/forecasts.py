"""URLs of the forecasts pages."""

urlpatterns: list = []
