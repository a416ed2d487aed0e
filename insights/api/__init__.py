"""The REST API under /api/v1/: serializers, viewsets, filters and urls. It reads through the
same querysets as the pages (ml/models/querysets.py), so a figure is the same in both."""
