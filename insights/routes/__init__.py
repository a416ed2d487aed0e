"""The pages' URLs, one module per group of pages (dashboards, lists, forecasts), so each
group's routes sit beside nothing else's; insights/urls.py joins them under one namespace."""
