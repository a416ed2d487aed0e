"""Alerts: raising with deduplication inside the suppression window, escalation by e-mail of
critical alerts nobody acknowledged, each real-time detector on data built here (an anomaly
found, an ordinary day left alone), rows committed through the sync engine scored only once
they commit, churn warnings arriving as alerts, and the Alerts page and JSON API with their
permissions (viewer, responder, outsider)."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clients.models import Client, Customer, Invoice, Payment, SyncRun, Ticket, Worklog
from insights.alerts.detectors import score
from insights.alerts.models import Alert
from insights.alerts.services import acknowledge, escalate_due, raise_alert, resolve

pytestmark = pytest.mark.django_db

# The detectors' windows are hours and days: a test module imported minutes before it runs is fine.
NOW = timezone.now()
TODAY = timezone.localdate()


# --- people ------------------------------------------------------------------------------


def logged_in(user, **kwargs) -> HttpClient:
    http = HttpClient(**kwargs)
    http.force_login(user)
    return http


# --- the MSP's data ----------------------------------------------------------------------
_ids = iter(range(1, 10**9))


def client_named(name: str) -> Client:
    return Client.objects.create(source="superops", external_id=f"c{next(_ids)}", name=name)


def tickets(client: Client, when: list, **fields) -> list[Ticket]:
    return Ticket.objects.bulk_create([
        Ticket(source="superops", external_id=f"t{next(_ids)}", client=client, subject="Printer", created_at=at,
               **fields) for at in when])


def customer_of(client: Client) -> Customer:
    return Customer.objects.create(source="quickbooks", external_id=f"q{next(_ids)}", display_name=client.name,
                                   client=client)


def invoice(customer: Customer, day: date, total, **fields) -> Invoice:
    fields.setdefault("balance", Decimal(total))
    return Invoice.objects.create(source="quickbooks", external_id=f"i{next(_ids)}", customer=customer,
                                  client=customer.client, txn_date=day, total=Decimal(total), **fields)


def monthly_history(customer: Customer, amounts: list) -> None:
    """One invoice on the 1st of each of the months before this one (none this month)."""
    for months_ago, amount in enumerate(amounts, start=1):
        first = TODAY.replace(day=1)
        for _ in range(months_ago):
            first = (first - timedelta(days=1)).replace(day=1)
        invoice(customer, first, amount, balance=0)


def kinds(alerts) -> list[str]:
    return [a.kind for a in alerts]


# --- raising and deduplication -----------------------------------------------------------
def test_a_repeat_within_the_window_bumps_the_count_instead_of_adding_an_alert(settings):
    settings.ALERT_SUPPRESSION_MINUTES = 60
    first = raise_alert("payment_reversal", "warning", None, "Payment 7 deleted", "first words", {"payment": 7},
                        "payment_reversal:payment:7")
    again = raise_alert("payment_reversal", "warning", None, "Payment 7 deleted", "newer words", {"payment": 7},
                        "payment_reversal:payment:7")
    assert again.pk == first.pk and again.repeated
    assert Alert.objects.count() == 1
    alert = Alert.objects.get()
    assert alert.count == 2 and alert.message == "newer words"
    assert alert.last_seen > alert.first_seen


def test_a_repeat_after_the_window_is_a_new_alert(settings):
    settings.ALERT_SUPPRESSION_MINUTES = 60
    first = raise_alert("ticket_surge", "warning", None, "Surge", "words", {}, "ticket_surge:1")
    now = timezone.now()
    Alert.objects.filter(pk=first.pk).update(first_seen=now - timedelta(minutes=90),
                                             last_seen=now - timedelta(minutes=61))
    later = raise_alert("ticket_surge", "warning", None, "Surge", "words", {}, "ticket_surge:1")
    assert later.pk != first.pk and not later.repeated
    assert sorted(Alert.objects.values_list("count", flat=True)) == [1, 1]


def test_a_repeat_raises_the_severity_but_never_lowers_it():
    raise_alert("sla_breach_run", "warning", None, "5 breaches", "", {}, "sla:1")
    assert raise_alert("sla_breach_run", "critical", None, "10 breaches", "", {}, "sla:1").severity == "critical"
    assert raise_alert("sla_breach_run", "warning", None, "6 breaches", "", {}, "sla:1").severity == "critical"
    assert Alert.objects.get().count == 3


def test_unknown_kinds_severities_and_empty_keys_are_refused():
    with pytest.raises(ValueError, match="unknown alert kind"):
        raise_alert("weather", "warning", None, "t", "m", {}, "k")
    with pytest.raises(ValueError, match="unknown severity"):
        raise_alert("ticket_surge", "panic", None, "t", "m", {}, "k")
    with pytest.raises(ValueError, match="dedup key"):
        raise_alert("ticket_surge", "warning", None, "t", "m", {}, "")
    assert not Alert.objects.exists()


# --- escalation --------------------------------------------------------------------------
def _aged(severity: str, key: str, minutes: int) -> Alert:
    alert = raise_alert("payment_reversal", severity, None, f"Reversal {key}", "Money back out", {}, key)
    Alert.objects.filter(pk=alert.pk).update(first_seen=timezone.now() - timedelta(minutes=minutes))
    return Alert.objects.get(pk=alert.pk)


def test_only_unacknowledged_critical_alerts_past_the_delay_are_mailed_once(settings, responder):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_ESCALATE_AFTER_MINUTES = 30
    settings.ALERT_ESCALATE_TO = ["oncall@msp.example"]
    due = _aged("critical", "due", 45)
    acknowledged = _aged("critical", "acknowledged", 45)
    acknowledge(acknowledged, responder)
    _aged("warning", "warning", 45)
    _aged("critical", "fresh", 10)

    assert escalate_due() == [due.pk]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["oncall@msp.example"]
    assert "Reversal due" in message.subject and "45 min" in message.subject
    assert Alert.objects.get(pk=due.pk).escalated_at is not None
    assert escalate_due() == []  # mailed once, not on every run
    assert len(mail.outbox) == 1


def test_escalation_goes_to_people_who_may_change_alerts_when_no_address_is_set(settings, responder, viewer):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.ALERT_ESCALATE_AFTER_MINUTES = 30
    settings.ALERT_ESCALATE_TO = []
    _aged("critical", "due", 31)
    call_command("escalate_alerts", stdout=(out := io.StringIO()))
    assert "Escalated 1 alert" in out.getvalue()
    assert mail.outbox[0].to == [responder.email]  # not the viewer: they cannot acknowledge it


class RefusingBackend:
    """A mail server that is down."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("mail server down")


def test_a_mail_server_that_is_down_leaves_the_alert_for_the_next_run(settings):
    settings.EMAIL_BACKEND = "tests.test_alerts.RefusingBackend"
    settings.ALERT_ESCALATE_AFTER_MINUTES = 30
    settings.ALERT_ESCALATE_TO = ["oncall@msp.example"]
    due = _aged("critical", "due", 40)
    assert escalate_due() == []
    assert Alert.objects.get(pk=due.pk).escalated_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert escalate_due() == [due.pk]


def test_the_escalation_check_is_scheduled(settings):
    from django_q.models import Schedule

    from insights.alerts.tasks import ESCALATION_SCHEDULE, ensure_schedule

    settings.ALERT_ESCALATION_CHECK_MINUTES = 5
    ensure_schedule()
    schedule = Schedule.objects.get(name=ESCALATION_SCHEDULE)
    assert (schedule.func, schedule.minutes) == ("insights.alerts.tasks.escalate_alerts_task", 5)


# --- detectors ---------------------------------------------------------------------------
def test_a_ticket_surge_far_above_the_clients_own_rate_is_an_alert():
    client = client_named("Harbor Dental")
    tickets(client, [NOW - timedelta(days=8 + day) for day in range(0, 84, 2)])  # one every 2 days
    surge = tickets(client, [NOW - timedelta(hours=h) for h in range(1, 13)])  # 12 in the last 12 h
    alerts = score(Ticket, [t.pk for t in surge])
    assert kinds(alerts) == ["ticket_surge"]
    alert = alerts[0]
    assert alert.client == client and "12 tickets in 24 hours" in alert.title
    assert set(alert.evidence["tickets"]) >= {t.pk for t in surge}


def test_an_ordinary_day_and_a_client_without_history_are_no_surge():
    client = client_named("Busy Logistics")
    tickets(client, [NOW - timedelta(days=8, hours=h) for h in range(0, 24 * 80, 8)])  # three a day
    today = tickets(client, [NOW - timedelta(hours=h) for h in range(1, 6)])  # five today: a busy day
    newcomer = client_named("New Client Co")
    first_week = tickets(newcomer, [NOW - timedelta(hours=h) for h in range(1, 20)])
    assert score(Ticket, [t.pk for t in today + first_week]) == []


def test_five_slas_breached_in_a_row_is_an_alert_and_four_are_not():
    late = {"resolution_violated": True}
    steady = client_named("Steady Legal")
    tickets(steady, [NOW - timedelta(days=9 - d) for d in range(4)], resolution_violated=False)
    run = tickets(steady, [NOW - timedelta(hours=h) for h in (50, 40, 30, 20, 10)], **late)
    alerts = score(Ticket, [run[-1].pk])
    assert kinds(alerts) == ["sla_breach_run"]
    assert alerts[0].evidence["run"] == 5 and alerts[0].severity == "warning"

    broken = client_named("Mostly Fine Ltd")
    tickets(broken, [NOW - timedelta(hours=h) for h in (50, 40, 30)], **late)
    tickets(broken, [NOW - timedelta(hours=25)], resolution_violated=False, first_response_violated=False)
    newest = tickets(broken, [NOW - timedelta(hours=h) for h in (20, 10)], **late)
    open_one = tickets(broken, [NOW - timedelta(hours=1)])  # no outcome yet: neither breaks nor extends
    assert score(Ticket, [newest[-1].pk, open_one[0].pk]) == []


def _worklogs(client, ticket, minutes: list[int], days_ago: int = 20) -> list[Worklog]:
    return Worklog.objects.bulk_create([
        Worklog(source="superops", external_id=f"w{next(_ids)}", client=client, ticket=ticket,
                work_date=TODAY - timedelta(days=days_ago), minutes=m, work_module="TICKET") for m in minutes])


def test_a_worklog_far_longer_than_its_kind_is_an_alert():
    client = client_named("Acme Accounting")
    reset = tickets(client, [NOW - timedelta(days=20)], category="Password reset", display_id="4821")[0]
    _worklogs(client, reset, [15, 20, 25, 30, 15, 20, 25, 20] * 5)
    today = tickets(client, [NOW - timedelta(hours=3)], category="Password reset", display_id="4830")[0]
    long_one, ordinary = _worklogs(client, today, [600, 45], days_ago=0)
    alerts = score(Worklog, [long_one.pk, ordinary.pk])
    assert kinds(alerts) == ["long_worklog"]
    alert = alerts[0]
    assert alert.evidence["worklog"] == long_one.pk and alert.severity == "critical"
    assert "10.0 h" in alert.title and "#4830" in alert.title and "Password reset" in alert.message


def test_long_work_of_a_kind_that_always_takes_long_is_no_alert():
    client = client_named("Builders Inc")
    migration = tickets(client, [NOW - timedelta(days=20)], category="Server migration")[0]
    _worklogs(client, migration, [180, 240, 300, 200, 360, 150] * 6)
    today = tickets(client, [NOW - timedelta(hours=2)], category="Server migration")[0]
    assert score(Worklog, [w.pk for w in _worklogs(client, today, [420], days_ago=0)]) == []


def test_an_invoice_far_off_the_clients_pattern_is_an_alert_either_way():
    client = client_named("Northwind Traders")
    customer = customer_of(client)
    monthly_history(customer, [4000, 4000, 4100, 4000, 3950, 4000, 4000, 4200, 4000, 4000, 4000, 4000])
    tiny = invoice(customer, TODAY, 1000, doc_number="1043")  # the month's only bill so far
    (low,) = score(Invoice, [tiny.pk])
    huge = invoice(customer, TODAY, 40000, doc_number="1042")
    (high,) = score(Invoice, [huge.pk])
    assert (low.evidence["invoice"], high.evidence["invoice"]) == (tiny.pk, huge.pk)
    assert high.severity == "critical" and "10.0x the usual" in high.title
    assert low.severity == "warning" and "25% of the usual" in low.title
    assert "unbilled" in low.message


def test_a_small_add_on_invoice_beside_the_months_usual_bill_is_no_alert():
    client = client_named("Contoso Dental")
    customer = customer_of(client)
    monthly_history(customer, [4000] * 12)
    invoice(customer, TODAY.replace(day=1), 4000, doc_number="2001")  # this month's recurring bill
    add_on = invoice(customer, TODAY, 87.50, doc_number="2002")  # 0.7 h of T&M billed apart
    assert score(Invoice, [add_on.pk]) == []


def test_seat_growth_an_old_invoice_and_a_client_without_history_are_no_alert():
    client = client_named("Growing Co")
    customer = customer_of(client)
    monthly_history(customer, [4000] * 12)
    grown = invoice(customer, TODAY, 4600)  # 15% more seats
    old = invoice(customer, TODAY - timedelta(days=400), 90000)  # history re-delivered, not news
    newcomer = customer_of(client_named("First Invoice Ltd"))
    first = invoice(newcomer, TODAY, 25000)
    assert score(Invoice, [grown.pk, old.pk, first.pk]) == []


def _payment(customer, total, day=TODAY, **fields) -> Payment:
    return Payment.objects.create(source="quickbooks", external_id=f"p{next(_ids)}", customer=customer,
                                  client=customer.client, txn_date=day, total=Decimal(total), **fields)


def test_payment_reversals_deleted_voided_negative_and_a_balance_going_back_up():
    customer = customer_of(client_named("Contoso Clinics"))
    deleted = _payment(customer, 2500, deleted_at_source=NOW)
    voided = _payment(customer, 0)
    negative = _payment(customer, -300)
    paid = invoice(customer, TODAY - timedelta(days=40), 1800, balance=1800)  # balance back up from 0

    found = score(Payment, [deleted.pk], deleted=True, previous={deleted.pk: {"total": Decimal(2500)}})
    found += score(Payment, [voided.pk, negative.pk], previous={voided.pk: {"total": Decimal(700)}})
    found += score(Invoice, [paid.pk], previous={paid.pk: {"balance": Decimal(0), "total": Decimal(1800)}})
    by_how = {a.evidence.get("how", "balance"): a for a in found}
    assert set(by_how) == {"deleted", "voided", "negative", "balance"}
    assert all(a.kind == "payment_reversal" for a in found)
    assert by_how["deleted"].severity == "critical"  # 2,500 is money to chase today
    assert by_how["voided"].evidence["amount"] == 700.0
    assert "went back up from 0.00 to 1,800.00" in by_how["balance"].message


def test_an_invoice_that_grew_or_got_paid_is_no_reversal():
    customer = customer_of(client_named("Fabrikam"))
    grown = invoice(customer, TODAY, 1500, balance=1500)  # a line added: balance up with the total
    paid = invoice(customer, TODAY, 900, balance=0)
    kept = _payment(customer, 900)
    assert score(Invoice, [grown.pk, paid.pk], previous={
        grown.pk: {"balance": Decimal(1000), "total": Decimal(1000)},
        paid.pk: {"balance": Decimal(900), "total": Decimal(900)}}) == []
    assert score(Payment, [kept.pk], previous={kept.pk: {"total": Decimal(900)}}) == []


# --- rows committed through the sync engine ----------------------------------------------
def _page(run, records):
    from integrations.sync import engine

    return engine.load_page(run, "quickbooks", "Invoice", records, lambda r: str(r["Id"]), None)


@pytest.mark.django_db(transaction=True)
def test_a_sync_page_is_scored_when_it_commits_and_never_when_it_rolls_back():
    client = client_named("Tailspin Toys")
    customer = customer_of(client)
    monthly_history(customer, [3000] * 10)
    run = SyncRun.objects.create(source="quickbooks", trigger=SyncRun.Trigger.WEBHOOK)
    record = {"Id": "9001", "DocNumber": "2001", "TxnDate": TODAY.isoformat(), "TotalAmt": 45000, "Balance": 45000,
              "CustomerRef": {"value": customer.external_id}}

    with pytest.raises(RuntimeError), transaction.atomic():
        _page(run, [record])
        assert Invoice.objects.filter(external_id="9001").exists()
        raise RuntimeError("the page failed after writing")
    assert not Alert.objects.exists()

    with transaction.atomic():
        _page(run, [record])
        assert not Alert.objects.exists()  # not before the commit
    alert = Alert.objects.get()
    assert alert.kind == "invoice_off_pattern" and alert.client == client
    assert alert.evidence["invoice"] == Invoice.objects.get(external_id="9001").pk

    with transaction.atomic():
        _page(run, [dict(record, Balance=0)])  # paid: re-scored, the same anomaly counted once more
    assert Alert.objects.get().count == 2


@pytest.mark.django_db(transaction=True)
def test_a_payment_deleted_through_the_sync_engine_is_a_reversal():
    from integrations.sync import engine

    customer = customer_of(client_named("Wingtip"))
    payment = _payment(customer, 1200)
    run = SyncRun.objects.create(source="quickbooks", trigger=SyncRun.Trigger.WEBHOOK)
    with transaction.atomic():
        assert engine.mark_deleted(run, "quickbooks", "Payment", [payment.external_id]) == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.evidence["how"], alert.evidence["payment"]) == ("payment_reversal", "deleted",
                                                                              payment.pk)
    assert alert.severity == "critical"


# --- churn warnings ----------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_churn_warning_becomes_an_alert_once_it_commits():
    from ml.models import ChurnWarning

    client = client_named("Litware")
    month = TODAY.replace(day=1)
    with transaction.atomic():
        ChurnWarning.objects.create(
            client=client, as_of=month, previous_as_of=month - timedelta(days=30), tier="critical",
            previous_tier="medium", risk=81, previous_risk=42,
            reasons=[{"text": "tickets up 80% on last quarter"}, {"text": "CSAT down to 3.1"}])
        assert not Alert.objects.exists()
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.client) == ("churn_warning", "critical", client)
    assert "from medium to critical" in alert.title
    assert "tickets up 80% on last quarter; CSAT down to 3.1" in alert.message


# --- the page and the API ----------------------------------------------------------------
def _some_alerts(n: int, client: Client | None = None) -> list[Alert]:
    return [raise_alert("ticket_surge", "warning", client.pk if client else None, f"Surge {i}", "words", {},
                        f"k{i}") for i in range(n)]


def test_the_alerts_page_needs_the_view_permission(client, viewer, outsider):
    _some_alerts(2)
    assert client.get(reverse("alerts:list")).status_code == 302  # anonymous: to the log-in page
    assert logged_in(outsider).get(reverse("alerts:list")).status_code == 403
    page = logged_in(viewer).get(reverse("alerts:list"))
    assert page.status_code == 200
    assert "Surge 0" in page.content.decode() and "Surge 1" in page.content.decode()
    assert "Acknowledge</button>" not in page.content.decode()  # the viewer may not change them


def test_the_alerts_page_lists_many_alerts_in_a_few_queries(viewer, django_assert_max_num_queries):
    client = client_named("Many Alerts Co")
    _some_alerts(30, client)
    http = logged_in(viewer)
    with django_assert_max_num_queries(12):
        page = http.get(reverse("alerts:list"))
    assert page.content.decode().count('data-alert="') == 30


def test_every_page_shows_the_open_count_to_those_who_may_see_alerts(viewer, outsider):
    _some_alerts(3)
    home = logged_in(viewer).get(reverse("insights:home")).content.decode()
    assert 'id="alert-count"' in home and ">3</span>" in home and "js/alerts.js" in home
    assert 'id="alert-count"' not in logged_in(outsider).get(reverse("insights:home")).content.decode()


def test_acknowledge_and_resolve_buttons_need_the_change_permission(viewer, responder):
    alert = _some_alerts(1)[0]
    url = reverse("alerts:acknowledge", args=[alert.pk])
    assert logged_in(viewer).post(url).status_code == 403
    assert logged_in(responder).get(url).status_code == 405
    assert logged_in(responder).post(reverse("alerts:acknowledge", args=[99999])).status_code == 404

    answer = logged_in(responder).post(url, {"next": "/alerts/?status=all"})
    assert (answer.status_code, answer["Location"]) == (302, "/alerts/?status=all")
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by) == ("acknowledged", responder)
    assert alert.acknowledged_at is not None

    logged_in(responder).post(reverse("alerts:resolve", args=[alert.pk]), {"next": "https://evil.example/"})
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by) == ("resolved", responder)


def test_the_buttons_refuse_a_post_without_the_csrf_token(responder):
    alert = _some_alerts(1)[0]
    strict = logged_in(responder, enforce_csrf_checks=True)
    assert strict.post(reverse("alerts:acknowledge", args=[alert.pk])).status_code == 403
    alert.refresh_from_db()
    assert alert.status == "open"


def test_the_json_api_reads_and_acts_with_the_right_permission(viewer, responder, outsider):
    """/api/v1/alerts/ with the alerts app's own permissions (view to read, change to act)."""
    alert, other = _some_alerts(2)
    listing = logged_in(viewer).get("/api/v1/alerts/")
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 2 and [r["title"] for r in body["results"]] == ["Surge 1", "Surge 0"]
    assert logged_in(outsider).get("/api/v1/alerts/").status_code == 403
    assert logged_in(viewer).get("/api/v1/alerts/99999/").status_code == 404

    ack = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    assert logged_in(viewer).post(ack).status_code == 403
    assert logged_in(outsider).post("/api/v1/alerts/99999/acknowledge/").status_code == 403
    assert logged_in(responder).post("/api/v1/alerts/99999/resolve/").status_code == 404
    answer = logged_in(responder).post(ack)
    assert answer.status_code == 200
    assert answer.json()["alert"]["status"] == "acknowledged" and answer.json()["open_count"] == 1
    assert answer.json()["alert"]["acknowledged_by"] == responder.username
    again = logged_in(responder).post(ack)
    assert again.json()["changed"] is False
    resolved = logged_in(responder).post(f"/api/v1/alerts/{other.pk}/resolve/").json()
    assert resolved["alert"]["status"] == "resolved" and resolved["open_count"] == 0


def test_resolving_works_from_acknowledged_and_only_once(responder):
    alert = _some_alerts(1)[0]
    assert acknowledge(alert, responder) and not acknowledge(alert, responder)
    assert resolve(alert, responder) and not resolve(alert, responder)
    assert not acknowledge(alert, responder)  # a resolved alert is not re-opened by a late click
