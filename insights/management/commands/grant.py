"""`python manage.py grant USER ROLE`: make a user a viewer, manager or admin (insights/roles.py)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from insights.roles import ROLES, grant


class Command(BaseCommand):
    help = "Give a user one role (viewer, manager or admin), replacing any role they had."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("role", choices=ROLES)

    def handle(self, *args, username: str, role: str, **options) -> None:
        users = get_user_model().objects
        try:
            user = users.get_by_natural_key(username)
        except users.model.DoesNotExist:
            raise CommandError(f"No user named {username!r}; create it in the admin first.") from None
        grant(user, role)
        self.stdout.write(self.style.SUCCESS(f"{username} is now {'an' if role == 'admin' else 'a'} {role}."))
