"""One place to read the integration settings: the value in django.conf.settings when
settings.py imported superhack.settings_integrations (or a test overrode it), else that
module's default."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from superhack import settings_integrations as _defaults


def setting(name: str) -> Any:
    return getattr(settings, name, getattr(_defaults, name))
