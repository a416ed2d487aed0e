"""/api/v1/forecasts/ and /api/v1/capacity/: ticket demand and the staffing it asks for, read from
the stored forecasts through ml.forecasting.read exactly as the pages read them (no model is
fitted on a request).

- GET forecasts/ : every series with a stored forecast, its latest served forecast and the served
  model's latest live accuracy; filters `measure` (tickets, hours), `scope` (desk, category,
  priority, client), `key`, `frequency` (W, M); paginated like every list of the API.
- GET forecasts/<series key>/ : the latest forecast's points with their 80% and 95% intervals (and
  the actuals known so far), the series' history up to the origin and every model's backtest and
  live accuracy; `?model=naive` for one model behind it instead of the served one.
- GET capacity/ : per forecast week the hours needed, the roster's hours, the gap in FTEs with its
  80% interval, the recommendations with their hours and cost, and the clients known to go live
  in those weeks (signed, with their go-live date and users).

Rights: `ml.view_forecast` (the viewer role and up); errors are DRF's (the API's exception
handler formats them).
"""

from __future__ import annotations

import math

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.reverse import reverse

from ml.forecasting import read
from ml.models import Forecast

BANDS = ("mean", "lo_80", "hi_80", "lo_95", "hi_95")
NO_FORECAST = "No forecast stored yet: run `manage.py forecast_demand`."


class CanViewForecasts(BasePermission):
    message = "Forecasts need the viewer role (ml.view_forecast)."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.has_perm("ml.view_forecast"))


class SeriesFilter(serializers.Serializer):
    measure = serializers.ChoiceField(choices=["tickets", "hours"], required=False)
    scope = serializers.ChoiceField(choices=["desk", "category", "priority", "client"], required=False)
    key = serializers.CharField(required=False, max_length=200)
    frequency = serializers.ChoiceField(choices=["W", "M"], required=False)


def _number(value):
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _accuracy(acc) -> dict | None:
    if acc is None:
        return None
    return {"origin": acc.origin, "periods_scored": acc.periods_scored, "mase": acc.mase, "smape": acc.smape,
            "coverage_80": acc.coverage_80, "backtest_mase": acc.backtest_mase, "drift_ratio": acc.drift_ratio,
            "drift_factor": acc.drift_factor, "drifted": acc.drifted, "recorded_at": acc.recorded_at}


def _summary(s: read.SeriesSummary, request) -> dict:
    return {"key": s.key, "measure": s.measure, "scope": s.scope, "label": s.label, "frequency": s.frequency,
            "client_id": s.client_id, "origin": s.origin, "model": s.model, "backtest_mase": s.backtest_mase,
            "accuracy": _accuracy(s.live),
            "url": reverse("api:forecast-detail", kwargs={"key": s.key}, request=request)}


def _point(row: Forecast | dict) -> dict:
    get = row.get if isinstance(row, dict) else lambda name: getattr(row, name)
    return {"period": get("period"), "step": get("step"), **{c: _number(get(c)) for c in BANDS},
            "actual": _number(get("actual"))}


class ForecastList(GenericAPIView):
    permission_classes = [CanViewForecasts]
    throttle_scope = "read"
    filter_backends: list = []

    @extend_schema(operation_id="forecasts_list", tags=["forecasts"], parameters=[SeriesFilter],
                   responses=OpenApiTypes.OBJECT)
    def get(self, request):
        filters = SeriesFilter(data=request.query_params)
        filters.is_valid(raise_exception=True)
        page = self.paginate_queryset(read.catalogue(**filters.validated_data))
        latest = {(s.key, s.origin) for s in page}
        points: dict[str, list] = {}
        rows = Forecast.objects.filter(served=True, series_key__in=[s.key for s in page]).order_by("series_key", "step")
        for row in rows:
            if (row.series_key, row.origin) in latest:
                points.setdefault(row.series_key, []).append(_point(row))
        return self.get_paginated_response([{**_summary(s, request), "forecast": points.get(s.key, [])}
                                            for s in page])


class ForecastDetail(GenericAPIView):
    permission_classes = [CanViewForecasts]
    throttle_scope = "read"
    filter_backends: list = []
    pagination_class = None

    @extend_schema(operation_id="forecasts_retrieve", tags=["forecasts"], responses=OpenApiTypes.OBJECT,
                   parameters=[OpenApiParameter("model", str, description="A model behind the served forecast")])
    def get(self, request, key: str):
        model = request.query_params.get("model") or None
        detail = read.detail(key, model=model)
        if detail is None:
            raise NotFound(f"No stored forecast of {key!r}" + (f" by {model!r}." if model else "."))
        frame = detail.forecast
        return Response({
            **_summary(detail.summary, request),
            "shown_model": frame.attrs.get("model"),
            "points": [_point({"step": i, **row, "period": row["period"].date()}) for i, row in
                       enumerate(frame.reset_index().to_dict("records"), start=1)],
            "history": [{"period": p.date(), "value": float(v)} for p, v in detail.history.items()],
            "models": [{"model": m.model, "served": m.served, "weight": m.weight, "backtest_mase": m.backtest_mase,
                        "accuracy": _accuracy(m.live)} for m in detail.models],
        })


class Capacity(GenericAPIView):
    permission_classes = [CanViewForecasts]
    throttle_scope = "read"
    filter_backends: list = []
    pagination_class = None

    @extend_schema(operation_id="capacity_retrieve", tags=["forecasts"], responses=OpenApiTypes.OBJECT)
    def get(self, request):
        found = read.capacity_plan()
        if found is None:
            raise NotFound(NO_FORECAST)
        plan = found.plan
        weeks = [{"week": week.date(), **{c: (int(v) if c in ("technicians", "holidays") else float(v))
                                          for c, v in row.items()}} for week, row in plan.iterrows()]
        return Response({
            "origin": found.origin, "model": found.model, "utilisation": plan.attrs["utilisation"],
            "hours_per_fte": plan.attrs["hours_per_fte"], "proactive_share": found.proactive_share,
            "weeks": weeks,
            "recommendations": [{"action": r.action, "words": r.words, "hours": r.hours, "cost": r.cost}
                                for r in found.recommendations],
            "onboardings": [{"client": o.client_id, "name": o.name, "go_live": o.go_live, "users": o.users}
                            for o in found.onboardings],
        })


urlpatterns = [
    path("forecasts/", ForecastList.as_view(), name="forecast-list"),
    path("forecasts/<path:key>/", ForecastDetail.as_view(), name="forecast-detail"),
    path("capacity/", Capacity.as_view(), name="capacity"),
]
