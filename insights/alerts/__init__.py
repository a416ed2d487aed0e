"""Alerts: real-time anomalies on committed rows, churn early warnings and leak findings,
pushed live to signed-in users over Django Channels (its own app, label "alerts")."""
