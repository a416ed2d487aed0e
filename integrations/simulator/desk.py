"""The service desk: one client's tickets and worklogs for one month.

Arrivals follow the client's endpoints, its own ticket habit (heavy-tailed), its hidden
health (sicker clients raise more incidents and see more SLA misses) and the calendar
(MonthDays). Proactive work comes from events (new starters, new devices), a monthly
after-hours patch window, generic service requests and running projects. Billing of the
worklogs is decided later by the books; here a ticket only says whether its work is out of
the agreement's scope (`oos`) or project work.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_left
from datetime import date

from . import names, priors
from .timeline import (
    BUSINESS_DAY,
    BUSINESS_START,
    DAY,
    HOUR_CUM,
    WEEKEND_HOUR_CUM,
    MonthDays,
    add_business_minutes,
    business_index,
    from_business_index,
    is_business,
    weekday,
)
from .world import Asset, Client, Contract, Technician


class Weighted:
    """A fixed weighted choice: one random number and a bisect (random.choices rebuilds its
    cumulative weights on every call, which shows up at a million tickets)."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, values, weights):
        self.values = list(values)
        self.cum, running = [], 0.0
        for w in weights:
            running += w
            self.cum.append(running)
        self.total = running

    def __call__(self, rng: random.Random):
        return self.values[bisect_left(self.cum, rng.random() * self.total)]


def one_of(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


_PRIORITY_NAMES = [p for p, _ in priors.PRIORITIES]
_PRIORITY_BY_GROUP = {g: Weighted(_PRIORITY_NAMES, w) for g, w in priors.PRIORITY_BY_GROUP.items()}
_SOURCES = {g: Weighted(*sources) for g, sources in priors.SOURCES_BY_GROUP.items()}
_REACTIVE = [c for c, _ in priors.REACTIVE_CATEGORIES]
_REACTIVE_W = [w for _, w in priors.REACTIVE_CATEGORIES]
_REACTIVE_PICK = Weighted(_REACTIVE, _REACTIVE_W)
_GENERIC_REQUESTS = Weighted(["Change Request", "Hardware", "Security Review"], (60, 25, 15))
_REQUESTERS = names.FIRST_NAMES
_OUT_OF_SCOPE = frozenset(("Hardware", "Change Request", "User Onboarding"))
_CSAT_SCORES = [s for s, _ in priors.CSAT_BASE]
_CSAT_W = [w for _, w in priors.CSAT_BASE]


class Worklog:
    __slots__ = ("after_hours", "billable", "id", "item", "minutes", "notes", "offered_id", "onsite",
                 "price", "start", "status", "tech", "ticket")

    def __init__(self, ticket: Ticket, tech: Technician, start: int, minutes: int, item: str, notes: str):
        self.id = ""
        self.ticket, self.tech, self.start, self.minutes = ticket, tech, start, minutes
        self.after_hours = not is_business(start)
        self.item, self.notes = item, notes
        self.onsite = item == "onsite"
        self.billable, self.price, self.status, self.offered_id = False, None, "UNDER_CONTRACT", None


class Ticket:
    __slots__ = ("asset_id", "category", "client", "created", "csat", "description", "escalated", "fr_at",
                 "fr_due", "fr_viol", "id", "oos", "priority", "project", "reopen", "res_at", "res_due",
                 "res_viol", "source", "status", "subcategory", "subject", "tech", "ttype", "updated",
                 "worklogs")

    @property
    def display_id(self) -> str:
        return f"T-{self.id}"

    @property
    def violated(self) -> bool:
        return bool(self.fr_viol or self.res_viol)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 40:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


class Desk:
    """Generates tickets for one month across clients; `now` is the end of the window."""

    def __init__(self, rng: random.Random, techs: list[Technician], now: int):
        self.rng = rng
        self.now = now
        self.pools = {t: [x for x in techs if x.tier == t] for t in (1, 2, 3)}

    # --- arrivals -------------------------------------------------------------------------
    def client_month(self, client: Client, month_idx: int, days: MonthDays, events: list[tuple],
                     projects: list[Contract]) -> list[Ticket]:
        rng = self.rng
        self.days = days
        self.month_end = days.last.toordinal() * DAY + DAY - 1
        on = days.first
        live = [a for a in client.assets if a.added <= days.last and (a.retired is None or a.retired >= on)]
        self.assets = {"Workstation": [a for a in live if a.cls == "Workstation"],
                       "other": [a for a in live if a.cls != "Workstation"]}
        endpoints = len(live)
        age = month_idx - client.onboard_idx
        onboarding = priors.ONBOARDING_MULTIPLIER[age] if 0 <= age < len(priors.ONBOARDING_MULTIPLIER) else 1.0
        health = client.health
        lam_r = (endpoints * priors.REACTIVE_PER_ENDPOINT * client.ticket_factor * onboarding * days.volume
                 * math.exp(-priors.REACTIVE_HEALTH_SLOPE * health))
        lam_p = endpoints * priors.PROACTIVE_PER_ENDPOINT * math.sqrt(client.ticket_factor) * days.volume
        self.viol_mult = math.exp(-priors.SLA_HEALTH_SLOPE * health)
        tickets = []
        n_r = poisson(rng, lam_r)
        for day in self._days(n_r):
            cat = self._reactive_category(day)
            group = "engineering" if cat == "Engineering" else "incident"
            tickets.append(self._ticket(client, self._time(day, cat == "Engineering"), "INCIDENT", cat, group))
        for day in self._days(poisson(rng, lam_p)):
            cat = _GENERIC_REQUESTS(rng)
            tickets.append(self._ticket(client, self._time(day, False), "SERVICE_REQUEST", cat, "request"))
        for kind, when, asset in events:
            cat = "Hardware" if kind == "device" else "User Onboarding"
            t = self._ticket(client, self._business_time(when), "SERVICE_REQUEST", cat, "request",
                             subject_index=1 if kind == "leaver" else 0, asset=asset)
            tickets.append(t)
        tickets.append(self._maintenance(client, days))
        for project in projects:
            tickets.extend(self._project_tickets(client, project, days))
        return tickets

    def _days(self, n: int) -> list[int]:
        if n <= 0:
            return []
        return self.rng.choices(range(len(self.days.ordinals)), cum_weights=self.days.cum_weights, k=n)

    def _reactive_category(self, day: int) -> str:
        pw, app = self.days.password_boost[day], self.days.app_boost[day]
        if pw == 1.0 and app == 1.0:
            return _REACTIVE_PICK(self.rng)
        w = list(_REACTIVE_W)
        w[0] *= pw
        w[4] *= app
        return self.rng.choices(_REACTIVE, w)[0]

    def _time(self, day: int, around_the_clock: bool) -> int:
        rng = self.rng
        ordinal = self.days.ordinals[day]
        if around_the_clock and rng.random() < priors.ALERTS_AROUND_THE_CLOCK:
            return ordinal * DAY + int(rng.random() * DAY)
        cum = HOUR_CUM if weekday(ordinal) < 5 else WEEKEND_HOUR_CUM
        hour = bisect_left(cum, rng.random() * cum[-1])
        return ordinal * DAY + hour * 60 + int(rng.random() * 60)

    def _business_time(self, when: date) -> int:
        """A working-hours moment on `when`, moved off the weekend but kept inside the month."""
        ordinal, first, last = when.toordinal(), self.days.ordinals[0], self.days.ordinals[-1]
        wd = weekday(ordinal)
        if wd == 5:
            ordinal = ordinal - 1 if ordinal - 1 >= first else ordinal + 2
        elif wd == 6:
            ordinal = ordinal + 1 if ordinal + 1 <= last else ordinal - 2
        return ordinal * DAY + BUSINESS_START + 30 + int(self.rng.random() * (BUSINESS_DAY - 60))

    # --- one ticket -----------------------------------------------------------------------
    def _ticket(self, client: Client, created: int, ttype: str, category: str, group: str,
                subject_index: int | None = None, asset: Asset | None = None) -> Ticket:
        rng = self.rng
        rand = rng.random
        t = Ticket()
        t.id = ""
        t.client, t.created, t.ttype, t.category = client, created, ttype, category
        # Out-of-scope work is a kind of request (a new install, a move, a build) that the
        # agreement does not cover: its subject says so, as the requester wrote it.
        t.oos = (ttype == "SERVICE_REQUEST" and category in _OUT_OF_SCOPE and subject_index is None
                 and rand() < priors.OUT_OF_SCOPE_SHARE)
        options = names.OUT_OF_SCOPE_SUBJECTS[category] if t.oos else names.SUBJECTS[category]
        t.subcategory, t.subject = options[subject_index if subject_index is not None else int(rand() * len(options))]
        t.priority = _PRIORITY_BY_GROUP[group](rng)
        t.source = _SOURCES[group](rng)
        t.tech = self._tech(client, 2 if group == "engineering" or category == "Security Review" else 1)
        if asset is None:
            pool = self.assets["other" if group == "engineering" and self.assets["other"] else "Workstation"]
            asset = pool[int(rand() * len(pool))] if pool and rand() < 0.8 else None
        t.asset_id = asset.asset_id if asset else None
        requester = _REQUESTERS[int(rand() * len(_REQUESTERS))]
        templates = names.DESCRIPTION[ttype]
        t.description = templates[int(rand() * len(templates))].format(
            subject=t.subject, subject_l=t.subject[0].lower() + t.subject[1:], name=requester)
        t.project = None
        self._sla(t)
        t.escalated = rand() < priors.ESCALATION_RATE[t.priority] * (1.5 if group == "engineering" else 1.0)
        t.reopen = 0
        if rand() < priors.REOPEN_RATE * math.exp(-0.3 * client.health):
            t.reopen = 2 if rand() < 0.1 else 1
            if t.res_at is not None:
                t.res_at = t.res_at + 120 + int(rand() * 2 * DAY)
                t.res_viol = t.res_at > t.res_due
        self._close(t)
        self._work(t, category)
        self._survey(t, client.health)
        return t

    def _tech(self, client: Client, tier: int) -> Technician:
        # Big clients are served by a pod, small ones mostly by their primary technician.
        share = priors.PRIMARY_TECH_SHARE[client.users >= priors.PRIMARY_POD_USERS]
        if self.rng.random() < share:
            return client.techs[tier]
        return one_of(self.rng, self.pools[tier])

    def _sla(self, t: Ticket) -> None:
        """Due times by priority (24x7 or business clock) and when the desk actually answered
        and resolved; a miss is exactly a time past its due time."""
        rand = self.rng.random
        busy = priors.BUSY_DAY_SLA if self.days.weights[t.created // DAY - self.days.ordinals[0]] > 1.2 else 1.0
        fr_target, business = priors.FIRST_RESPONSE_TARGET[t.priority]
        res_target = priors.RESOLUTION_TARGET[t.priority][0]
        # On the business clock a time is an office-hours index; otherwise plain minutes.
        if business:
            at, origin = from_business_index, business_index(t.created)
        else:
            at, origin = int, t.created
        t.fr_due = at(origin + fr_target)
        t.fr_viol = rand() < priors.FR_VIOLATION_BASE * self.viol_mult * busy
        r = rand()
        spent = int(fr_target * (1.1 + 1.4 * r)) if t.fr_viol else int(fr_target * (0.03 + 0.87 * r))
        t.fr_at = at(origin + spent)
        if t.fr_viol:
            t.fr_at = max(t.fr_at, t.fr_due + 1)
        t.res_due = at(origin + res_target)
        t.res_viol = rand() < priors.RES_VIOLATION_BASE * self.viol_mult * busy
        r = rand()
        spent = int(res_target * (1.1 + 1.9 * r)) if t.res_viol else int(res_target * r ** 1.6)
        t.res_at = at(origin + spent)
        t.res_at = max(t.res_at, t.fr_at + 5)
        if t.res_viol:
            t.res_at = max(t.res_at, t.res_due + 1)
        elif t.res_at > t.res_due:
            t.res_at = t.res_due - 1
        if t.res_at < t.fr_at + 5:  # answered so late that resolution came after its due time
            t.res_at, t.res_viol = t.fr_at + 5, t.fr_at + 5 > t.res_due

    def _close(self, t: Ticket) -> None:
        now = self.now
        if t.fr_at > now:
            t.fr_at, t.fr_viol = None, now > t.fr_due
        if t.res_at is None or t.res_at > now:
            t.res_at, t.res_viol = None, now > t.res_due
            t.status = "In Progress" if t.fr_at is not None else "Open"
        else:
            t.status = "Closed" if t.res_at < now - 3 * DAY else "Resolved"

    def _work(self, t: Ticket, category: str, minutes: float | None = None, tech2: Technician | None = None) -> None:
        rng = self.rng
        if minutes is None:
            minutes = priors.MINUTES_BY_CATEGORY[category] * t.tech.speed * math.exp(rng.gauss(0, priors.WORK_SIGMA))
            if t.escalated:
                minutes *= priors.ESCALATED_WORK
            if t.priority == "Urgent":
                minutes *= priors.URGENT_WORK
        n = 1 + (1 if t.escalated else 0) + t.reopen + (1 if minutes > 90 and rng.random() < 0.5 else 0)
        begin = t.fr_at if t.fr_at is not None else t.created
        stop = min(t.res_at if t.res_at is not None else self.now, self.month_end, self.now)
        onsite = rng.random() < priors.ONSITE_SHARE.get(category, 0.0)
        notes = names.WORKLOG_NOTES.get(category, names.GENERIC_NOTES)
        step = priors.WORK_STEP_MINUTES
        t.worklogs = []
        span = max(0, stop - begin)
        # Work on a ticket waiting for office hours happens in office hours; only urgent
        # tickets and planned windows are worked at night.
        office = category != "Maintenance" and (t.priority != "Urgent" or is_business(t.created))
        origin = business_index(begin) if office else 0
        business_span = max(0, business_index(stop) - origin) if office else 0
        for i in range(n):
            share = minutes / n * (0.6 + 0.8 * rng.random())
            m = max(step, round(share / step) * step)
            tech = t.tech
            if i > 0 and t.escalated and i == 1:
                tech = tech2 or self._tech(t.client, min(3, t.tech.tier + 1))
            item = "remote"
            if onsite and i == 0:
                item, m = "onsite", max(m, 60)
            if business_span >= n:
                start = max(begin, from_business_index(
                    origin + (business_span * i) // n + int(rng.random() * (business_span // n))))
            else:
                start = begin + (span * i) // n + int(rng.random() * (span // n))
            t.worklogs.append(Worklog(t, tech, min(start, stop), m, item, one_of(rng, notes)))

    def _survey(self, t: Ticket, health: float) -> None:
        rng = self.rng
        t.csat = None
        t.updated = t.res_at or t.fr_at or t.created
        if t.res_at is None or t.status != "Closed" or rng.random() >= priors.CSAT_RESPONSE_RATE:
            return
        k = priors.CSAT_QUALITY
        quality = (k["health"] * health + k["violated"] * t.violated + k["reopen"] * t.reopen
                   + rng.gauss(0, k["noise"]))
        weights = [w * math.exp(k["slope"] * quality * (s - 3)) for s, w in zip(_CSAT_SCORES, _CSAT_W, strict=True)]
        score = rng.choices(_CSAT_SCORES, weights)[0]
        at = t.res_at + 10 + int(rng.random() * 2 * DAY)
        if at > self.now:
            return
        t.csat = (score, one_of(rng, names.CSAT_COMMENTS[score]), at)
        t.updated = at

    # --- planned work ---------------------------------------------------------------------
    def _maintenance(self, client: Client, days: MonthDays) -> Ticket:
        # The monthly patch window: an evening in the three days after Patch Tuesday, after hours.
        patch = next((i for i, boost in enumerate(days.app_boost) if boost > 1.0), 8)
        ordinal = days.ordinals[patch + client.index % 3]
        created = ordinal * DAY + 19 * 60 + self.rng.randrange(120)
        t = self._ticket(client, created, "SERVICE_REQUEST", "Maintenance", "request", subject_index=0)
        t.source, t.priority, t.escalated, t.reopen = "INTEGRATION", "Low", False, 0
        # Planned work starts on time and ends the same night.
        t.fr_due = add_business_minutes(created, priors.FIRST_RESPONSE_TARGET["Low"][0])
        t.res_due = add_business_minutes(created, priors.RESOLUTION_TARGET["Low"][0])
        t.fr_at, t.fr_viol, t.res_viol = created + 2, False, False
        t.res_at = created + 30 + 3 * priors.MINUTES_BY_CATEGORY["Maintenance"]
        self._close(t)
        self._work(t, "Maintenance")
        self._survey(t, client.health)
        return t

    def _project_tickets(self, client: Client, project: Contract, days: MonthDays) -> list[Ticket]:
        rng = self.rng
        months_left = max(1, (project.end.year - days.first.year) * 12 + project.end.month - days.first.month + 1)
        hours = min(project.project_hours, project.project_hours / months_left * rng.uniform(0.8, 1.2))
        project.project_hours -= hours
        out = []
        while hours > 0.5:
            chunk = min(hours, rng.uniform(3, 8))
            hours -= chunk
            day = rng.choice([o for o in days.ordinals if weekday(o) < 5])
            t = self._ticket(client, self._business_time(date.fromordinal(day)), "SERVICE_REQUEST", "Project",
                             "request")
            t.subject = f"{project.name.removeprefix('Project: ')}: work session"
            t.project, t.oos, t.source = project, False, "INTEGRATION"
            t.csat = None  # project work is logged against the project: no ticket, no survey
            t.tech = self._tech(client, rng.choice((2, 3)))
            self._work(t, "Project", minutes=chunk * 60)
            for w in t.worklogs:
                w.item = "project"
                w.onsite = False
            out.append(t)
        return out
