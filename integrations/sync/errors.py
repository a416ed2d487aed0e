"""Errors from the outside world, classified. A permanent error stops the run with a message a
person can act on; a transient one is retried with back-off."""

from __future__ import annotations


class SyncError(Exception):
    permanent = False


class PermanentError(SyncError):
    """Bad credentials, unknown tenant, a query the API refuses: retrying cannot help."""

    permanent = True


class TransientError(SyncError):
    """429, 5xx, timeouts, dropped connections: worth another try after a pause."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class RateLimited(TransientError):
    pass


class AccessTokenExpired(TransientError):
    """QuickBooks answered 401: refresh the access token, then try again."""


class ChangedSinceTooOld(SyncError):
    """QuickBooks CDC refuses a changedSince older than 30 days: read the entity in full."""


class SyncBusy(PermanentError):
    """Another process holds the lease for this source."""
