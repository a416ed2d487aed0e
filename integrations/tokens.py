"""Encryption of OAuth tokens at rest (Fernet). The key comes from INTEGRATIONS_TOKEN_KEY,
or is derived from SECRET_KEY when that is empty."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from integrations.conf import setting


def _fernet() -> Fernet:
    key = setting("INTEGRATIONS_TOKEN_KEY")
    if not key:
        digest = hashlib.sha256(b"superhack-integrations-tokens:" + settings.SECRET_KEY.encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode() if value else ""


def decrypt(value: str) -> str:
    if not value:
        return ""
    try:
        return _fernet().decrypt(value.encode()).decode()
    except InvalidToken:
        # The key changed: the stored token is useless, the realm must be connected again.
        return ""
