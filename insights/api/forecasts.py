"""/api/v1/forecasts/ and /api/v1/capacity/: ticket demand and the staffing it asks for."""

urlpatterns: list = []
