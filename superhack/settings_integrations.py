"""Settings of the live SuperOps and QuickBooks Online sync, read from the environment.

Imported at the end of settings.py. INTEGRATIONS_SANDBOX_URL points both clients at the
project's sandbox server (`manage.py runsandbox`), so a demo or a test talks to it over real
HTTP exactly as it would to the real services.
"""

from __future__ import annotations

from .env import env_int, env_str

# --- SuperOps (GraphQL). EU tenants use https://euapi.superops.ai/msp.
SUPEROPS_API_URL = env_str("SUPEROPS_API_URL", "https://api.superops.ai/msp")
SUPEROPS_API_TOKEN = env_str("SUPEROPS_API_TOKEN")
SUPEROPS_SUBDOMAIN = env_str("SUPEROPS_SUBDOMAIN")
# SuperOps allows 800 requests a minute per tenant; 0 turns our own throttle off.
SUPEROPS_REQUESTS_PER_MINUTE = env_int("SUPEROPS_REQUESTS_PER_MINUTE", 800, minimum=0)
SUPEROPS_TIMEOUT_SECONDS = env_int("SUPEROPS_TIMEOUT_SECONDS", 30, minimum=1)
# Lists read incrementally (tickets, offered items) are read in full again once their last
# full read is this old, so records deleted in SuperOps are marked deleted (0: never).
SUPEROPS_FULL_READ_HOURS = env_int("SUPEROPS_FULL_READ_HOURS", 24, minimum=0)

# --- QuickBooks Online (OAuth 2.0 through intuit-oauth).
QUICKBOOKS_CLIENT_ID = env_str("QUICKBOOKS_CLIENT_ID")
QUICKBOOKS_CLIENT_SECRET = env_str("QUICKBOOKS_CLIENT_SECRET")
QUICKBOOKS_REDIRECT_URI = env_str(
    "QUICKBOOKS_REDIRECT_URI", "http://127.0.0.1:8000/integrations/quickbooks/callback/"
)
# "production", "sandbox" (Intuit's own sandbox companies) or the URL of an OpenID discovery
# document, which is how our sandbox server is reached. The Accounting API host follows it
# (sandbox: https://sandbox-quickbooks.api.intuit.com, production: https://quickbooks.api.intuit.com)
# unless QUICKBOOKS_API_BASE names one, which a discovery URL needs.
QUICKBOOKS_ENVIRONMENT = env_str("QUICKBOOKS_ENVIRONMENT", "production")
QUICKBOOKS_API_BASE = env_str("QUICKBOOKS_API_BASE")
# Entities read incrementally without deletions (TimeActivity: CDC does not serve it) are
# read in full when their last full read is this old, to find deleted records (0: never).
QUICKBOOKS_FULL_READ_HOURS = env_int("QUICKBOOKS_FULL_READ_HOURS", 24, minimum=0)
QUICKBOOKS_MINOR_VERSION = env_int("QUICKBOOKS_MINOR_VERSION", 75, minimum=1)
QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN = env_str("QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN")
# Intuit allows 500 requests a minute per realm and 10 at once; 0 turns our throttle off.
QUICKBOOKS_REQUESTS_PER_MINUTE = env_int("QUICKBOOKS_REQUESTS_PER_MINUTE", 500, minimum=0)
QUICKBOOKS_MAX_CONCURRENT = env_int("QUICKBOOKS_MAX_CONCURRENT", 10, minimum=1)
QUICKBOOKS_TIMEOUT_SECONDS = env_int("QUICKBOOKS_TIMEOUT_SECONDS", 30, minimum=1)

# Fernet key (urlsafe base64, 32 bytes) for OAuth tokens at rest. Empty: derived from
# SECRET_KEY, so rotating SECRET_KEY means reconnecting QuickBooks.
INTEGRATIONS_TOKEN_KEY = env_str("INTEGRATIONS_TOKEN_KEY")

# Page sizes: SuperOps' list pages (100 at most), QuickBooks' MAXRESULTS and the most
# objects one CDC answer holds (1,000 each). Tests lower them to page through tiny worlds.
SUPEROPS_PAGE_SIZE = env_int("SUPEROPS_PAGE_SIZE", 100, minimum=1)
QUICKBOOKS_PAGE_SIZE = env_int("QUICKBOOKS_PAGE_SIZE", 1000, minimum=1)
QUICKBOOKS_CDC_LIMIT = env_int("QUICKBOOKS_CDC_LIMIT", 1000, minimum=1)

# --- The sandbox. When set, both clients talk to it instead of the real services.
# Its built-in credentials are public (they are in this repository), so they must never
# guard a real deployment: with DEBUG off, settings.py refuses them at start-up
# (refused_sandbox_values). The demo and the tests set them at run time, in their own process.
SANDBOX_CREDENTIALS = {
    "SUPEROPS_API_TOKEN": "sandbox-token",
    "QUICKBOOKS_CLIENT_ID": "sandbox-client",
    "QUICKBOOKS_CLIENT_SECRET": "sandbox-secret",
    "QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN": "sandbox-verifier",
}
INTEGRATIONS_SANDBOX_URL = env_str("INTEGRATIONS_SANDBOX_URL").rstrip("/")
if INTEGRATIONS_SANDBOX_URL:
    SUPEROPS_API_URL = f"{INTEGRATIONS_SANDBOX_URL}/msp"
    SUPEROPS_API_TOKEN = SUPEROPS_API_TOKEN or SANDBOX_CREDENTIALS["SUPEROPS_API_TOKEN"]
    SUPEROPS_SUBDOMAIN = SUPEROPS_SUBDOMAIN or "sandbox"
    QUICKBOOKS_API_BASE = INTEGRATIONS_SANDBOX_URL
    QUICKBOOKS_ENVIRONMENT = f"{INTEGRATIONS_SANDBOX_URL}/.well-known/openid_configuration"
    QUICKBOOKS_CLIENT_ID = QUICKBOOKS_CLIENT_ID or SANDBOX_CREDENTIALS["QUICKBOOKS_CLIENT_ID"]
    QUICKBOOKS_CLIENT_SECRET = QUICKBOOKS_CLIENT_SECRET or SANDBOX_CREDENTIALS["QUICKBOOKS_CLIENT_SECRET"]
    QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN = (QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN
                                         or SANDBOX_CREDENTIALS["QUICKBOOKS_WEBHOOK_VERIFIER_TOKEN"])


def refused_sandbox_values(values: dict, debug: bool) -> str | None:
    """Why start-up must stop, or None: with DEBUG off, no setting may hold the sandbox's
    built-in credential (a webhook signed with the public verifier would be believed)."""
    if debug:
        return None
    found = [name for name, value in SANDBOX_CREDENTIALS.items() if value and values.get(name) == value]
    if not found:
        return None
    why = " (filled in because INTEGRATIONS_SANDBOX_URL is set)" if values.get("INTEGRATIONS_SANDBOX_URL") else ""
    holds = "holds the sandbox's built-in value" if len(found) == 1 else "hold the sandbox's built-in values"
    return (f"{', '.join(found)} {holds}{why}, which anyone can read in this repository; refused with DEBUG off. "
            "The sandbox is for tests and the demo only: set the real credential, or DEBUG=true to work against "
            "the sandbox.")

# --- The sync engine.
# Minutes between scheduled incremental runs (django-q2); 0 switches the schedule off.
SYNC_SUPEROPS_EVERY_MINUTES = env_int("SYNC_SUPEROPS_EVERY_MINUTES", 15, minimum=0)
SYNC_QUICKBOOKS_EVERY_MINUTES = env_int("SYNC_QUICKBOOKS_EVERY_MINUTES", 15, minimum=0)
# Tries for one request before a transient failure (429, 5xx, timeout) fails the run,
# and the first back-off in milliseconds (doubled each try, with jitter, capped at 60 s).
SYNC_MAX_ATTEMPTS = env_int("SYNC_MAX_ATTEMPTS", 6, minimum=1)
SYNC_BACKOFF_BASE_MS = env_int("SYNC_BACKOFF_BASE_MS", 500, minimum=0)
# The window the *_REQUESTS_PER_MINUTE budgets count over, in seconds: 60 (a minute) except
# in tests, which shorten it to see a budget at work in seconds. The budgets are shared by
# every process through Redis or the database (integrations/sync/budget.py).
SYNC_BUDGET_WINDOW_SECONDS = env_int("SYNC_BUDGET_WINDOW_SECONDS", 60, minimum=1)

# Fuzzy client matching: at or above AUTO the pair is linked; between REVIEW and AUTO it
# waits for a person in the admin; below REVIEW it is not proposed.
CLIENT_MATCH_AUTO_SCORE = env_int("CLIENT_MATCH_AUTO_SCORE", 90, minimum=0)
CLIENT_MATCH_REVIEW_SCORE = env_int("CLIENT_MATCH_REVIEW_SCORE", 70, minimum=0)
