"""People and rights: the three roles as Django groups, and granting one to a user.

- viewer: reads. View permission on every model of the product's apps (clients, ml, insights,
  alerts): pages, the admin's lists and detail views, live alerts.
- manager: a viewer who also acts: confirms, dismisses and recovers leak findings
  (insights.change_leakfinding), logs retention interventions (ml.add/change_intervention),
  acknowledges and resolves alerts (alerts.change_alert).
- admin: a manager who also runs the machinery: integrations (connections, field and value
  maps, match candidates...), the model registry (retrain, promote, roll back: ModelVersion and
  TrainingRun) and the feature builds.

The groups are made (and their permissions reset to these lists) by a post_migrate receiver,
so every `migrate` (and every test database flush) leaves them as defined here; a data
migration would run before Django has created the permissions of a fresh database's apps.
Granting a role makes the user staff, since the admin is where people act until the
dashboards land; it never makes anyone a superuser.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

VIEWER, MANAGER, ADMIN = "viewer", "manager", "admin"
ROLES = (VIEWER, MANAGER, ADMIN)
PRODUCT_APPS = ("clients", "ml", "insights", "alerts")

MANAGER_ACTS = (
    ("insights", "change_leakfinding"),
    ("ml", "add_intervention"),
    ("ml", "change_intervention"),
    ("alerts", "change_alert"),
)
# Whole models an admin adds, changes and deletes (and runs the actions of).
ADMIN_MODELS = (("ml", "modelversion"), ("ml", "trainingrun"), ("ml", "featurebuild"))
ADMIN_APPS = ("integrations",)


def _codes(pairs) -> Q:
    q = Q(pk__in=[])
    for app, codename in pairs:
        q |= Q(content_type__app_label=app, codename=codename)
    return q


def role_permissions(role: str):
    """The permissions a role's group holds (each role holds the rights of the one before it)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    q = Q(content_type__app_label__in=PRODUCT_APPS, codename__startswith="view_")
    if role in (MANAGER, ADMIN):
        q |= _codes(MANAGER_ACTS)
    if role == ADMIN:
        q |= Q(content_type__app_label__in=ADMIN_APPS)
        for app, model in ADMIN_MODELS:
            q |= Q(content_type__app_label=app, content_type__model=model)
    return Permission.objects.filter(q)


def ensure_roles(using: str = "default") -> None:
    """Create the three groups if missing and set their permissions to the lists above."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    # The apps after insights in INSTALLED_APPS have not had their permissions made yet.
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    with transaction.atomic(using=using):
        for role in ROLES:
            group, _ = Group.objects.using(using).get_or_create(name=role)
            group.permissions.set(role_permissions(role).using(using))


def on_post_migrate(sender, using: str = "default", **kwargs) -> None:
    ensure_roles(using)


def grant(user, role: str) -> None:
    """Put the user in the role's group (and in no other role's), and make them staff."""
    ensure_roles()
    with transaction.atomic():
        user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
        user.groups.add(Group.objects.get(name=role))
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
