"""`{% alerts_nav as nav %}`: whether the signed-in user may see alerts (nav.visible) and the
open count beside "Alerts" in the top bar (nav.count), rendered with the page so it is right
without JavaScript; alerts.js keeps it current afterwards.

Every page pays for this, so it costs one query for most users: the permission is read with
one EXISTS over the user's own and group permissions (Django's `perms` would take two), or
from the permission cache when the view already checked one; then the count when visible.
"""

from django import template
from django.contrib.auth.models import Permission
from django.db.models import Q

register = template.Library()
APP, CODENAME = "alerts", "view_alert"


def may_see_alerts(user) -> bool:
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    if hasattr(user, "_perm_cache"):  # loaded by an earlier has_perm on this request: free
        return user.has_perm(f"{APP}.{CODENAME}")
    return Permission.objects.filter(Q(user=user) | Q(group__user=user), content_type__app_label=APP,
                                     codename=CODENAME).exists()


@register.simple_tag(takes_context=True)
def alerts_nav(context) -> dict:
    from ..services import open_count

    user = context.get("user")
    if user is None or not user.is_authenticated or not may_see_alerts(user):
        return {"visible": False, "count": None}
    return {"visible": True, "count": open_count()}
