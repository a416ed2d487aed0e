"""A client's people (SuperOps client users): one per user of the client, kept in step with
hires and leavers, so a per-user agreement's seats can be checked against the user list.

Names come from their own random stream, so adding people changed no other draw.
"""

from __future__ import annotations

import random

from . import names
from .world import Client, Ids, Person, Site


class People:
    def __init__(self, rng: random.Random, ids: Ids):
        self.rng, self.ids = rng, ids

    def _person(self, client: Client, role: str, taken: set[str]) -> Person:
        rng = self.rng
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        local = names.ascii_local(f"{first}.{last}")
        email, n = f"{local}@{client.domain}", 2
        while email in taken:
            email, n = f"{local}{n}@{client.domain}", n + 1
        taken.add(email)
        site: Site = client.hq if len(client.sites) == 1 or rng.random() < 0.7 else rng.choice(client.sites[1:])
        return Person(self.ids.next("person"), first, last, email, site, role)

    def sync(self, client: Client) -> None:
        """Add or remove people until the list has one per user (the first is the primary
        contact and never leaves)."""
        people = client.people
        taken = {p.email for p in people}
        while len(people) < client.users:
            people.append(self._person(client, "Employee" if people else "Client Admin", taken))
        while len(people) > max(1, client.users):
            people.pop(1 + int(self.rng.random() * (len(people) - 1)))
