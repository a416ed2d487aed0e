"""Revenue leaks in the browser: the findings list (filters, sorting, paging, totals identified
against recovered) and a finding's page with its audit trail and the recovery workflow's
buttons. Findings are written here, dated from today; expected totals are summed from them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clients.models import Client
from insights.leaks import workflow
from insights.models import LeakFinding, LeakFindingEvent
from insights.templatetags.money import money

pytestmark = pytest.mark.django_db
Status = LeakFinding.Status


def month_back(n: int) -> date:
    index = date.today().year * 12 + date.today().month - 1 - n
    return date(index // 12, index % 12 + 1, 1)


def finding(client: Client, kind: str, months_back: int, amount: str, **extra) -> LeakFinding:
    return LeakFinding.objects.create(
        finding_type=kind, client=client, period=month_back(months_back), estimated_amount=Decimal(amount),
        detector=kind, rule_version="1", last_detected_at=timezone.now(), confidence=0.9,
        recommendation=f"invoice what {client.name} owes", **extra)


@pytest.fixture
def leaks():
    """Acme: 55 unbilled worklogs over the last months (10.00 .. 550.00); Bolt: five missing
    recurring invoices (1,000 each) two months back, one confirmed, one recovered, one dismissed."""
    acme = Client.objects.create(source="superops", external_id="1", name="Acme Dental")
    bolt = Client.objects.create(source="superops", external_id="2", name="Bolt Freight")
    # One finding per (type, client, month): Acme's worklog findings go back one month each.
    rows = [finding(acme, "unbilled_worklog", 1 + i, f"{10 * (i + 1)}.00") for i in range(55)]
    bolt_rows = [finding(bolt, kind, 2, "1000.00") for kind in (
        "missing_recurring_invoice", "seat_underbilling", "rate_below_contract", "unbilled_expense",
        "missed_escalator")]
    bolt_rows[1].status = Status.CONFIRMED
    bolt_rows[2].status, bolt_rows[2].recovered_amount = Status.RECOVERED, Decimal("600.00")
    bolt_rows[3].status, bolt_rows[3].dismiss_reason = Status.DISMISSED, "documented discount"
    for f in bolt_rows[1:4]:
        f.save()
    return {"acme": acme, "bolt": bolt, "acme_rows": rows, "bolt_rows": bolt_rows}


def shown_ids(page: str) -> list[int]:
    body = page[page.index("<tbody>"):page.index("</tbody>")]
    return [int(part.split('"')[0]) for part in body.split('<tr data-finding="')[1:]]


# --- the list ----------------------------------------------------------------------------------
def test_leaks_list_pages_sorts_and_totals(login, leaks):
    every = leaks["acme_rows"] + leaks["bolt_rows"]
    client = login("viewer")
    page = client.get("/leaks/").content.decode()
    by_amount = sorted(every, key=lambda f: (-f.estimated_amount, f.pk))
    assert shown_ids(page) == [f.pk for f in by_amount[:50]]
    second = client.get("/leaks/", {"page": 2}).content.decode()
    assert shown_ids(second) == [f.pk for f in by_amount[50:]]
    cheapest = client.get("/leaks/", {"sort": "amount"}).content.decode()
    assert shown_ids(cheapest)[:3] == [f.pk for f in sorted(every, key=lambda f: (f.estimated_amount, f.pk))[:3]]
    oldest = client.get("/leaks/", {"sort": "period"}).content.decode()
    assert shown_ids(oldest)[0] == leaks["acme_rows"][-1].pk  # 55 months back
    # Totals: identified leaves out the dismissed; recovered is what was actually recovered.
    identified = sum(f.estimated_amount for f in every if f.status != Status.DISMISSED)
    totals = page[page.index('id="leak-totals"'):page.index("</section>", page.index('id="leak-totals"'))]
    assert money(identified, 2) in totals and money(Decimal("600.00"), 2) in totals
    assert money(Decimal("2000.00"), 2) in totals  # confirmed: the confirmed and the recovered one
    assert money(Decimal("1000.00"), 2) in totals  # dismissed
    assert f"{len(every)} findings, {len(every) - 3} open" in totals


def test_leaks_list_filters_and_keeps_them_in_links(login, leaks):
    client = login("viewer")
    bolt = leaks["bolt"]
    by_client = client.get("/leaks/", {"client": bolt.pk}).content.decode()
    assert sorted(shown_ids(by_client)) == sorted(f.pk for f in leaks["bolt_rows"])
    # The totals follow the client: Bolt's four findings not dismissed, none of Acme's.
    start = by_client.index('id="leak-totals"')
    totals = by_client[start:by_client.index("</section>", start)]
    assert money(Decimal("4000.00"), 2) in totals and "5 findings, 2 open" in totals
    confirmed = client.get("/leaks/", {"status": "confirmed"}).content.decode()
    assert shown_ids(confirmed) == [leaks["bolt_rows"][1].pk]
    worklogs = client.get("/leaks/", {"type": "unbilled_worklog", "sort": "amount"}).content.decode()
    assert len(shown_ids(worklogs)) == 50 and 'href="?type=unbilled_worklog&amp;sort=amount&amp;page=2"' in worklogs
    rest = client.get("/leaks/", {"type": "unbilled_worklog", "sort": "amount", "page": 2}).content.decode()
    assert shown_ids(rest) == [f.pk for f in leaks["acme_rows"][50:]]
    two_back = month_back(2).strftime("%Y-%m")
    month = client.get("/leaks/", {"month": two_back}).content.decode()
    want = [f for f in leaks["acme_rows"] + leaks["bolt_rows"] if f.period == month_back(2)]
    assert sorted(shown_ids(month)) == sorted(f.pk for f in want)
    # The totals follow the month: that month's identified and recovered only.
    identified = sum(f.estimated_amount for f in want if f.status != Status.DISMISSED)
    assert money(identified, 2) in month and f"leaks of {month_back(2):%B %Y}" in month
    assert "No finding matches these filters" in client.get("/leaks/", {"status": "open", "client": bolt.pk,
                                                                        "type": "seat_underbilling"}).content.decode()


def test_garbled_filters_and_sorts_are_ignored(login, leaks):
    client = login("viewer")
    every = leaks["acme_rows"] + leaks["bolt_rows"]
    page = client.get("/leaks/", {"month": "2026-13", "status": "gone", "client": "x", "sort": "pk;drop",
                                  "page": "999"}).content.decode()
    by_amount = sorted(every, key=lambda f: (-f.estimated_amount, f.pk))
    assert shown_ids(page) == [f.pk for f in by_amount[50:]]  # no filter, default sort, the last page


def test_leaks_list_query_count_does_not_grow_with_findings(login, leaks):
    client = login("viewer")
    with CaptureQueriesContext(connection) as many:
        client.get("/leaks/")
    LeakFinding.objects.filter(pk__in=[f.pk for f in leaks["acme_rows"][5:]]).delete()
    with CaptureQueriesContext(connection) as few:
        client.get("/leaks/")
    assert len(many.captured_queries) == len(few.captured_queries) <= 14


def test_no_leaks_yet_says_how_to_detect_them(login):
    page = login("viewer").get("/leaks/").content.decode()
    assert "No leaks detected yet" in page and "python manage.py detect_leaks" in page


def test_leak_pages_need_a_role(client, django_user_model, leaks):
    f = leaks["bolt_rows"][0]
    assert client.get(f"/leaks/{f.pk}/")["Location"].startswith("/accounts/login/")
    client.force_login(django_user_model.objects.create_user("nobody"))
    assert client.get("/leaks/").status_code == 403 and client.get(f"/leaks/{f.pk}/").status_code == 403
    assert client.post(f"/leaks/{f.pk}/action/", {"action": "confirm"}).status_code == 403


# --- a finding and its workflow ----------------------------------------------------------------
def test_viewer_sees_the_trail_but_no_buttons_and_cannot_act(login, leaks, people):
    f = leaks["bolt_rows"][0]
    workflow.confirm(leaks["bolt_rows"][4], people["manager"], "agreed")
    page = login("viewer").get(f"/leaks/{f.pk}/").content.decode()
    assert 'id="leak-status"' in page and ">Open</span>" in page and "invoice what Bolt Freight owes" in page
    assert 'name="action"' not in page and "Record recovery" not in page
    assert f'href="/leaks/{f.pk}/sources/"' in page and f'href="/clients/{f.client_id}/"' in page
    client = login("viewer")
    for data in ({"action": "confirm"}, {"action": "dismiss", "reason": "no"}, {"action": "recover", "amount": "5"}):
        assert client.post(f"/leaks/{f.pk}/action/", data).status_code == 403
    f.refresh_from_db()
    assert f.status == Status.OPEN and not f.events.exists()


def test_manager_confirms_then_records_a_recovery(login, leaks):
    f = leaks["bolt_rows"][0]
    client = login("manager")
    page = client.get(f"/leaks/{f.pk}/").content.decode()
    assert 'button type="submit" name="action" value="confirm"' in page
    assert 'value="dismiss"' in page and 'value="recover"' not in page  # an open finding is confirmed first
    after = client.post(f"/leaks/{f.pk}/action/", {"action": "confirm", "note": "client agreed"}, follow=True)
    text = after.content.decode()
    assert '<span id="leak-status" class="status status-confirmed" data-status="confirmed">Confirmed</span>' in text
    assert f"Finding #{f.pk} confirmed." in text and "client agreed" in text
    assert 'value="recover"' in text and 'value="confirm"' not in text
    recovered = client.post(f"/leaks/{f.pk}/action/", {"action": "recover", "amount": "812.40", "note": "INV-9"},
                            follow=True).content.decode()
    assert ">Recovered</span>" in recovered and money(Decimal("812.40"), 2) in recovered
    assert "final, nothing more to do" in recovered
    f.refresh_from_db()
    assert (f.status, f.recovered_amount) == (Status.RECOVERED, Decimal("812.40"))
    events = list(f.events.values_list("from_status", "to_status", "username", "amount"))
    assert events == [("open", "confirmed", "manager-person", None),
                      ("confirmed", "recovered", "manager-person", Decimal("812.40"))]


def test_manager_dismisses_only_with_a_reason(login, leaks):
    f = leaks["bolt_rows"][0]
    client = login("manager")
    refused = client.post(f"/leaks/{f.pk}/action/", {"action": "dismiss", "reason": "  "}, follow=True)
    assert "Nothing changed: a dismissal needs a reason." in refused.content.decode()
    f.refresh_from_db()
    assert f.status == Status.OPEN and not f.events.exists()
    done = client.post(f"/leaks/{f.pk}/action/", {"action": "dismiss", "reason": "goodwill, agreed by the owner"},
                       follow=True).content.decode()
    assert ">Dismissed</span>" in done and "goodwill, agreed by the owner" in done
    f.refresh_from_db()
    assert (f.status, f.dismiss_reason) == (Status.DISMISSED, "goodwill, agreed by the owner")
    assert LeakFindingEvent.objects.get(finding=f).user.username == "manager-person"


def test_a_move_the_workflow_refuses_changes_nothing_and_says_why(login, leaks):
    f = leaks["bolt_rows"][0]  # open: it cannot be recovered before it is confirmed
    client = login("manager")
    page = client.post(f"/leaks/{f.pk}/action/", {"action": "recover", "amount": "10"}, follow=True).content.decode()
    assert f"Nothing changed: finding #{f.pk} is open: it cannot become recovered" in page
    assert ">Open</span>" in page
    final = leaks["bolt_rows"][3]  # dismissed
    page = client.post(f"/leaks/{final.pk}/action/", {"action": "confirm"}, follow=True).content.decode()
    assert "it cannot become confirmed" in page and ">Dismissed</span>" in page
    confirmed = leaks["bolt_rows"][1]
    page = client.post(f"/leaks/{confirmed.pk}/action/", {"action": "recover", "amount": "lots"},
                       follow=True).content.decode()
    assert "is not a number" in page
    for row in (f, final, confirmed):
        before = row.status
        row.refresh_from_db()
        assert row.status == before and not row.events.exists()
