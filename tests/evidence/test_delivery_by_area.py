"""Delivery by area (issue 18, item 4): referrals asked, answered within the deadline, median time to
first response and outcomes per ward beside the borough, against figures worked out by hand; the
small-number rules; who sees it; its downloads; the queries it costs.

The period is March 2026 in Europe/London, before the clocks go forward (London time is UTC). The
deadline is the end of the 5th working day after the day a referral reached its provider.
"""

import random
import statistics
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from evidence import selectors, suppression
from evidence.selectors import Scope
from organisations.models import Organisation
from referrals import summaries
from referrals.models import Referral, ReferralWaitMonth
from referrals.selectors import delivery_by_ward
from taxonomies.models import Taxonomy, TaxonomyTerm
from tests.evidence.test_funding import _csv
from tests.factories import make_network_admin, make_organisation, make_user, term

pytestmark = pytest.mark.django_db

START, END = date(2026, 3, 1), date(2026, 3, 31)


def march_scope(area=None) -> Scope:
    """A new scope each time: a scope keeps the figures it has counted."""
    return Scope(start=START, end=END, area=area)

Status, Outcome = Referral.Status, Referral.Outcome


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


def _referral(organisation, provider, *, sent=None, answered=None, status=Status.WITH_PROVIDER, outcome="", submitted=None, **extra):
    """A referral as the workflow leaves it: sent at `sent`, first answered at `answered`."""
    submitted = submitted or sent
    return Referral.objects.create(
        organisation=organisation,
        description="Help with a funding bid.",
        consent_purpose="To pass our request to a provider.",
        consent_given_at=submitted,
        submitted_at=submitted,
        provider=provider if sent else None,
        sent_at=extra.pop("sent_at", sent),
        first_response_at=answered,
        first_response_after=answered - sent if answered else None,
        status=status,
        outcome=outcome,
        **extra,
    )


@pytest.fixture
def provider(db):
    return make_organisation(name="Tower Hamlets CVS", kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)])


@pytest.fixture
def march(provider):
    """Bow East, 9 referrals:

    E1 sent Mon 2 Mar 09:00, answered 11:00 (2 h): in time; closed, resolved
    E2 sent Mon 2 Mar 10:00, answered Mon 9 Mar 15:00 (173 h): in time (due by the end of Mon 9 Mar); resolved
    E3 sent Wed 4 Mar, answered Thu 12 Mar (192 h): late (due Wed 11 Mar); accepted
    E4 sent Fri 6 Mar 16:00, answered Sat 14 Mar 10:00 (186 h): late (due Fri 13 Mar); declined
    E5 sent Tue 10 Mar: never answered; with the provider
    E6 sent Tue 10 Mar 12:00, answered 16:00 (4 h): in time; then withdrawn
    E7 sent Thu 5 Mar, answered Thu 12 Mar 17:00 (176 h): in time (due Thu 12 Mar); resolved
    E8 sent Mon 16 Mar, answered 10:00 (1 h): in time; in progress
    E9 sent Tue 17 Mar, passed on Wed 18 Mar (24 h): in time, though the next provider has not answered
       (its sending and deadline have moved on to 18 and 25 March)

    Bow West, 3: W1 answered in 3 h (accepted), W2 in 10 h (resolved), W3 not yet sent to anyone.
    Outside the period: a referral made on 28 February and one on 1 April.
    """
    east = make_organisation(name="Bow Gardeners", ward=term("wards", "bow-east"))
    west = make_organisation(name="Bow West Tenants", ward=term("wards", "bow-west"))
    closed = Status.CLOSED
    _referral(east, provider, sent=at(2), answered=at(2, 11), status=closed, outcome=Outcome.RESOLVED)
    _referral(east, provider, sent=at(2, 10), answered=at(9, 15), status=closed, outcome=Outcome.RESOLVED)
    _referral(east, provider, sent=at(4), answered=at(12), status=Status.ACCEPTED)
    _referral(east, provider, sent=at(6, 16), answered=at(14, 10), status=Status.DECLINED)
    _referral(east, provider, sent=at(10))
    _referral(east, provider, sent=at(10, 12), answered=at(10, 16), status=closed, outcome=Outcome.WITHDRAWN)
    _referral(east, provider, sent=at(5), answered=at(12, 17), status=closed, outcome=Outcome.RESOLVED)
    _referral(east, provider, sent=at(16), answered=at(16, 10), status=Status.IN_PROGRESS)
    _referral(east, provider, sent=at(17), answered=at(18), sent_at=at(18), response_due_at=at(25, 23))
    _referral(west, provider, sent=at(3), answered=at(3, 12), status=Status.ACCEPTED)
    _referral(west, provider, sent=at(11), answered=at(11, 19), status=closed, outcome=Outcome.RESOLVED)
    _referral(west, provider, submitted=at(12), status=Status.SUBMITTED)
    _referral(east, provider, sent=datetime(2026, 2, 28, 12, tzinfo=UTC), answered=at(2))
    _referral(east, provider, sent=datetime(2026, 4, 1, 12, tzinfo=UTC))
    Organisation.objects.update(created_at=datetime(2025, 1, 1, tzinfo=UTC))
    return SimpleNamespace(east=east, west=west)


def _waits_by_ward() -> dict:
    """Every answered referral's wait in seconds, by the asking organisation's ward, in March (London)."""
    waits: dict = {}
    made = Referral.objects.filter(submitted_at__gte=datetime(2026, 3, 1, tzinfo=UTC), submitted_at__lt=datetime(2026, 3, 31, 23, tzinfo=UTC))
    for ward_id, waited in made.exclude(first_response_after=None).values_list("organisation__ward_id", "first_response_after"):
        waits.setdefault(ward_id, []).append(waited.total_seconds())
    return waits


def test_the_medians_match_sorting_every_answer(provider):
    """Odd and even counts, ties, a ward with one answer, answers either side of an hour's edge, and
    referrals made either side of March's edges in London time (BST from 29 March, 01:00 UTC): the
    medians are the middle answers' as sorting every answer gives them (percentile_cont on PostgreSQL,
    Python's median on SQLite, against Python's median of every wait read back)."""
    odd = make_organisation(name="Odd", ward=term("wards", "bow-east"))
    even = make_organisation(name="Even", ward=term("wards", "bow-west"))
    one = make_organisation(name="One", ward=term("wards", "mile-end"))
    nowhere = make_organisation(name="No ward")
    sent = at(9)
    for organisation, waits_in_minutes in (
        (odd, [59, 60, 60, 61, 3000, 7, 119]),  # 7: the middle one is 60 (a tie), an hour's edge either side
        (even, [30, 90, 90, 150, 600, 5]),  # 6: halfway between 90 and 90 (a tie), and the hours either side
        (one, [1234]),
        (nowhere, [45, 46]),
    ):
        for wait in waits_in_minutes:
            _referral(organisation, provider, sent=sent, answered=sent + timedelta(minutes=wait), status=Status.ACCEPTED)
    # Made at 23:30 on 31 March London time (22:30 UTC): in March. At 00:30 on 1 March London (GMT): in March.
    # At 23:30 UTC on 31 March (00:30 on 1 April London): not in March; nor 23:30 UTC on 28 February.
    edges = [(datetime(2026, 3, 31, 22, 30, tzinfo=UTC), 11), (datetime(2026, 3, 1, 0, 30, tzinfo=UTC), 13)]
    outside = [(datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 1), (datetime(2026, 2, 28, 23, 30, tzinfo=UTC), 1)]
    for made, hours in edges + outside:
        _referral(odd, provider, sent=made, answered=made + timedelta(hours=hours), status=Status.ACCEPTED)

    waits = _waits_by_ward()
    assert sorted(len(w) for w in waits.values()) == [1, 2, 6, 9]  # the edges counted, the outside not
    expected = {ward_id: statistics.median(w) for ward_id, w in waits.items()}
    everyone = statistics.median([s for w in waits.values() for s in w])
    figures = delivery_by_ward(start=START, end=END)
    for ward_id, ward_figures in figures["wards"].items():
        assert ward_figures["median_hours"] == pytest.approx(expected[ward_id] / 3600, abs=1e-9), ward_id
    assert figures["borough"]["median_hours"] == pytest.approx(everyone / 3600, abs=1e-9)
    assert figures["wards"][one.ward_id]["median_hours"] == pytest.approx(1234 / 60)
    assert figures["wards"][even.ward_id]["median_hours"] == pytest.approx(1.5)


MEDIAN_PERIODS = [
    (START, END),  # one whole month: its hours from the summary
    (date(2026, 2, 15), date(2026, 4, 10)),  # partial months either side of a whole one
    (date(2026, 3, 10), date(2026, 4, 5)),  # no whole month: the days' hours
    (date(2026, 2, 1), date(2026, 4, 30)),  # three whole months
]


def _python_medians(start: date, end: date) -> tuple[dict, float | None]:
    """Every wait in the period read back and sorted here: {ward id: median seconds}, and in total."""
    waits: dict = {}
    made = summaries.made_in_period(start=start, end=end).exclude(first_response_after=None)
    for ward_id, waited in made.values_list("organisation__ward_id", "first_response_after"):
        waits.setdefault(ward_id, []).append(waited.total_seconds())
    everyone = [seconds for ward_waits in waits.values() for seconds in ward_waits]
    return {ward_id: statistics.median(w) for ward_id, w in waits.items()}, statistics.median(everyone) if everyone else None


def _assert_medians_match_sorting(ward):
    for start, end in MEDIAN_PERIODS:
        summaries.period_medians(start=start, end=end)  # the months summarised
        with CaptureQueriesContext(connection) as captured:
            found = summaries.period_medians(start=start, end=end)
        # Found through the hours, not by sorting every answer: the summaries' check (one), the whole
        # months' hours, the ended partial months' days' hours (one query), the current month's days'
        # hours (one query each), the middle hours' answers.
        months, days, live = summaries._parts(start, end)
        whole = summaries._whole_months(start, end) is not None
        assert len(captured) == bool(months) + whole + bool(days) + len(live) + 1, (start, end)
        assert found == summaries.period_medians(start=start, end=end, use_summaries=False), (start, end)
        by_ward, overall = _python_medians(start, end)
        assert found[0] == pytest.approx(by_ward, abs=1e-6) and found[1] == pytest.approx(overall, abs=1e-6), (start, end)
        in_ward = summaries.period_medians(start=start, end=end, ward=ward)
        assert in_ward == summaries.period_medians(start=start, end=end, ward=ward, use_summaries=False), (start, end)
        assert in_ward[1] == found[0].get(ward.pk), (start, end)


def test_the_medians_through_the_hours_summarised_match_sorting_every_answer(provider):
    """Answers a microsecond either side of hours' edges, ties, in whole and partial London months,
    then writes after the months were summarised (new answers, a bulk update of waits across an hour's
    edge, deletions, an organisation moving ward): the medians found from the answers per hour are,
    to the bit, those of sorting every answer (percentile_cont on PostgreSQL), and Python's median of
    every wait read back."""
    rng = random.Random(15)
    wards = [term("wards", code) for code in ("bow-east", "bow-west", "mile-end")]
    organisations = [make_organisation(ward=ward) for ward in wards] + [make_organisation()]
    edges = [timedelta(minutes=minutes) + timedelta(microseconds=nudge) for minutes in (59, 60, 120, 180) for nudge in (-1, 0, 1)]
    for n in range(90):
        made = datetime(2026, 2, 10, tzinfo=UTC) + timedelta(hours=rng.randint(0, 24 * 80))
        wait = rng.choice(edges) if n % 3 else timedelta(minutes=rng.randint(1, 600))
        _referral(rng.choice(organisations), provider, sent=made, answered=made + wait, status=Status.ACCEPTED)
    _assert_medians_match_sorting(wards[0])
    assert ReferralWaitMonth.objects.filter(month=date(2026, 3, 1)).exists()  # the summary path was taken

    for n in range(7):  # written after summarising: noted by the triggers, the months counted again
        made = datetime(2026, 3, 20, tzinfo=UTC) + timedelta(hours=n)
        _referral(organisations[0], provider, sent=made, answered=made + timedelta(minutes=60), status=Status.ACCEPTED)
    _assert_medians_match_sorting(wards[0])
    Referral.objects.filter(first_response_after=timedelta(minutes=60)).update(first_response_after=timedelta(minutes=60) - timedelta(microseconds=1))
    Referral.objects.filter(pk__in=Referral.objects.order_by("pk").values("pk")[:9]).delete()
    organisations[1].ward = wards[0]
    organisations[1].save()
    _assert_medians_match_sorting(wards[0])


def test_an_hour_not_holding_what_was_counted_in_it_sorts_every_answer(provider):
    """A write between reading the answers per hour and reading the middle hour's answers (made here by
    changing the kept count behind the triggers' back): the medians are then those of sorting."""
    organisation = make_organisation(ward=term("wards", "bow-east"))
    for minutes in (30, 90, 95, 150, 200):
        _referral(organisation, provider, sent=at(9), answered=at(9) + timedelta(minutes=minutes), status=Status.ACCEPTED)
    assert summaries.period_medians(start=START, end=END)[1] == 95 * 60
    ReferralWaitMonth.objects.filter(hours=1).update(answered=3)  # two answers in that hour, now said to be three
    assert summaries.period_medians(start=START, end=END) == ({organisation.ward_id: 95 * 60}, 95 * 60)


def test_the_medians_of_a_period_without_answers(provider):
    _referral(make_organisation(name="Asked", ward=term("wards", "bow-east")), provider, sent=at(9))
    figures = delivery_by_ward(start=START, end=END)
    assert figures["borough"]["median_hours"] is None
    assert all(ward["median_hours"] is None for ward in figures["wards"].values())


def _chart(board) -> selectors.Chart:
    section = next(section for section in board.sections if section.key == "areas")
    return next(chart for chart in section.charts if chart.key == "delivery-by-area")


def _published(comparison, label) -> tuple:
    row = next(row for row in comparison.all_rows if row.label == label)
    return row.base.display, row.part.display, row.share_display, row.statistic.display


def test_the_figures_worked_out_by_hand(march):
    figures = delivery_by_ward(start=START, end=END)
    east, west, borough = figures["wards"][march.east.ward_id], figures["wards"][march.west.ward_id], figures["borough"]
    # Bow East: 9 asked, 8 answered (not E5), 6 in time (E1, E2, E6, E7, E8, E9): E3 and E4 were late,
    # E4 on a Saturday after a Friday deadline. Median of 1, 2, 4, 24, 173, 176, 186, 192 hours: (24 + 173) / 2.
    assert (east["asked"], east["answered"], east["in_time"]) == (9, 8, 6)
    assert east["median_hours"] == pytest.approx(98.5)
    assert dict(east["states"]) == {"with_provider": 2, "accepted": 1, "declined": 1, "in_progress": 1, "resolved": 3, "withdrawn": 1}
    assert (west["asked"], west["answered"], west["in_time"], west["median_hours"]) == (3, 2, 2, pytest.approx(6.5))
    assert dict(west["states"]) == {"accepted": 1, "resolved": 1, "submitted": 1}
    # The borough: 12 asked, 10 answered, 8 in time; median of the ten waits: (10 + 24) / 2.
    assert (borough["asked"], borough["answered"], borough["in_time"]) == (12, 10, 8)
    assert dict(borough["states"]) == {
        "submitted": 1, "with_provider": 2, "accepted": 2, "declined": 1, "in_progress": 1, "resolved": 4, "withdrawn": 1,
    }
    assert borough["median_hours"] == pytest.approx(17.0)
    assert [state for state, _label in figures["states"]] == [
        "submitted", "with_provider", "accepted", "declined", "in_progress", "resolved", "partly_resolved", "not_resolved", "withdrawn",
    ]


def test_without_medians_the_counts_are_the_same(march):
    """The key figures' period before reads only the counts (rule 4): no median's queries, same counts."""
    delivery_by_ward(start=START, end=END, medians=False)  # March summarised
    with CaptureQueriesContext(connection) as captured:
        counts_only = delivery_by_ward(start=START, end=END, medians=False)
    # The summaries' check (one), the month's rows and its needs.
    assert len(captured) == 3
    with CaptureQueriesContext(connection) as captured:
        figures = delivery_by_ward(start=START, end=END)
    # The counts (three, as above), and the medians: the summaries' check again, the answers per hour
    # waited, the middle hours' answers.
    assert len(captured) == 6
    for key in ("asked", "answered", "in_time", "states"):
        assert counts_only["borough"][key] == figures["borough"][key]
    assert counts_only["borough"]["median_hours"] is None


def test_a_deadline_over_a_bank_holiday_in_london_time(provider):
    """Sent on Thursday 2 April 2026: Good Friday and Easter Monday do not count, so working day 5 is
    Monday 13 April. An answer at 23:30 that Monday in London (22:30 UTC) is in time; one at 00:30 on
    Tuesday in London (still Monday in UTC) is late."""
    ward = make_organisation(ward=term("wards", "mile-end"))
    sent = datetime(2026, 4, 2, 8, tzinfo=UTC)
    _referral(ward, provider, sent=sent, answered=datetime(2026, 4, 13, 22, 30, tzinfo=UTC), status=Status.ACCEPTED)
    _referral(ward, provider, sent=sent, answered=datetime(2026, 4, 13, 23, 30, tzinfo=UTC), status=Status.ACCEPTED)
    figures = delivery_by_ward(start=date(2026, 4, 1), end=date(2026, 4, 30))["borough"]
    assert (figures["answered"], figures["in_time"]) == (2, 1)


def test_the_published_table_hides_small_numbers_and_cannot_be_undone(march):
    comparison = _chart(selectors.sector_dashboard(march_scope())).comparison
    # Bow West's 3 referrals are "fewer than 5", and with the borough's 12 shown, 12 - 9 would give
    # them away: Bow East's 9 is withheld too; so are its 6 in time (8 - 6 = Bow West's 2), and so
    # its share. Bow West's median rests on 2 answers: withheld. Bow East's rests on 8: shown.
    assert _published(comparison, "Bow East") == ("withheld", "withheld", "withheld", "98.5 hours")
    assert _published(comparison, "Bow West") == ("fewer than 5", "fewer than 5", "withheld", "withheld (fewer than 5 records)")
    assert _published(comparison, "Mile End") == ("0", "0", "none asked", "no data")
    assert _published(comparison, "The whole borough") == ("12", "8", "67%", "17.0 hours")
    assert "Ward not recorded" not in [row.label for row in comparison.rows]
    # No line with a shown total lets a hidden cell be worked out, and nothing shows a small number.
    for cells, total in comparison.lines():
        assert not suppression.line_exposes(cells, total)
    assert not [cell for cell in comparison.counts() if 0 < cell.value < 5 and not cell.hidden]


def test_a_ward_no_longer_in_use_keeps_its_row_while_it_has_referrals(march):
    TaxonomyTerm.objects.filter(pk=march.west.ward_id).update(is_active=False)
    comparison = _chart(selectors.sector_dashboard(march_scope())).comparison
    # After every ward in use, so the rows still add up to the borough.
    assert [row.label for row in comparison.rows][-1] == "Bow West"
    assert _published(comparison, "Bow West")[:2] == ("fewer than 5", "fewer than 5")
    assert sum(row.base.value for row in comparison.rows) == comparison.total.base.value == 12


def test_a_ward_beside_the_borough(march):
    comparison = _chart(selectors.sector_dashboard(march_scope(term("wards", "bow-east")))).comparison
    assert [row.label for row in comparison.all_rows] == ["Bow East", "The whole borough"]
    assert not comparison.total_adds_up
    # 6 of 9 is 67%; the borough is not the sum of one ward, so nothing is withheld to protect it.
    assert _published(comparison, "Bow East") == ("9", "6", "67%", "98.5 hours")
    assert _published(comparison, "The whole borough") == ("12", "8", "67%", "17.0 hours")
    outcomes = dict(zip(comparison.breakdown_labels, (cell.display for cell in comparison.rows[0].breakdown), strict=True))
    assert outcomes["Resolved"] == "fewer than 5" and outcomes["Submitted"] == "0"


def test_a_count_withheld_here_is_withheld_in_the_referral_section_too(provider):
    """4 resolved in Bow East and 4 in Bow West: each "fewer than 5", and a borough total of 8 would
    pin both at 4, so it is withheld, and with it the same count in "Referrals by outcome"."""
    for code in ("bow-east", "bow-west"):
        organisation = make_organisation(ward=term("wards", code))
        for day in range(2, 6):
            _referral(organisation, provider, sent=at(day), answered=at(day, 10), status=Status.CLOSED, outcome=Outcome.RESOLVED)
    board = selectors.sector_dashboard(march_scope())
    comparison = _chart(board).comparison
    resolved = comparison.breakdown_labels.index("Resolved")
    assert comparison.total.breakdown[resolved].display == "withheld"
    referrals = next(section for section in board.sections if section.key == "referrals")
    by_outcome = dict(next(chart for chart in referrals.charts if chart.key == "referrals-by-outcome").series.rows)
    assert by_outcome["Resolved"].display == "withheld"


def test_no_referrals_is_nothing_to_count(db):
    make_organisation(ward=term("wards", "bow-east"))
    chart = _chart(selectors.sector_dashboard(march_scope()))
    assert chart.is_empty
    assert _published(chart.comparison, "The whole borough") == ("0", "0", "none asked", "no data")


def test_the_queries_do_not_grow_with_the_number_of_wards(provider):
    wards = list(TaxonomyTerm.objects.in_taxonomy(Taxonomy.WARDS)[:12])
    assert len(wards) == 12

    def queries(in_wards) -> int:
        Referral.objects.all().delete()
        for n, ward in enumerate(in_wards * 2):
            organisation = make_organisation(ward=ward)
            _referral(organisation, provider, sent=at(2 + n % 20), answered=at(2 + n % 20, 15), status=Status.ACCEPTED)
        selectors.delivery_section(march_scope())  # March summarised again
        with CaptureQueriesContext(connection) as captured:
            chart = selectors.delivery_section(march_scope()).charts[0]
            list(chart.long_rows())
        assert chart.comparison.total.base.value == 2 * len(in_wards)
        return len(captured)

    three, twelve = queries(wards[:3]), queries(wards)
    # The summaries' check (two), the month's rows and needs, the medians (the summaries' check, the
    # answers per hour waited, the middle hours' answers), the wards (and retired ones).
    assert three == twelve <= 10


# Pages, downloads, permissions ----------------------------------------------------------------------

PERIOD = {"start": "01/03/2026", "end": "31/03/2026"}


def _get(client, user, **params):
    client.force_login(user)
    return client.get(reverse("evidence:dashboard"), {**PERIOD, **params})


@pytest.mark.parametrize("role", [User.Role.FUNDER, "network_admin"])
def test_funders_and_network_admins_see_the_section(march, client, role):
    user = make_network_admin() if role == "network_admin" else make_user(role)
    response = _get(client, user)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'id="section-areas"' in content and "Delivery by area" in content
    assert "working day 5 counted from the day after the referral reached that provider" in content
    assert "Areas harvested from other directories have no referral data here" in content
    assert '<th scope="row">The whole borough</th><td class="text-end">12</td><td class="text-end">8</td><td class="text-end">67%</td><td class="text-end">17.0</td>' in content


def test_vco_people_and_the_public_do_not_see_it(march, client):
    assert _get(client, make_user(User.Role.VCO_STAFF)).status_code == 403
    client.logout()
    response = client.get(reverse("evidence:dashboard"), PERIOD)
    assert response.status_code == 302 and "login" in response["Location"]


def test_the_table_downloads_on_its_own_as_published(march, client):
    response = _get(client, make_user(User.Role.FUNDER), format="csv", chart="delivery-by-area")
    assert response.status_code == 200
    assert "delivery-by-area" in response["Content-Disposition"]
    rows = _csv(response)
    assert {row[1] for row in rows[1:]} == {"Referrals by area: answered, how fast, and outcomes"}
    body = [row[2:6] for row in rows[1:]]
    assert ["Bow West", "Referrals asked", "", "fewer than 5"] in body
    assert ["Bow West", "Median hours to first response", "", "withheld (fewer than 5 records)"] in body
    assert ["Bow East", "Referrals asked", "", "withheld"] in body
    assert ["Bow East", "Median hours to first response", "98.5", "98.5 hours"] in body
    assert ["The whole borough", "Answered within the deadline", "8", "8"] in body
    assert ["The whole borough", "Share answered within the deadline (%)", "67", "67%"] in body
    assert ["The whole borough", "Withdrawn", "", "fewer than 5"] in body
    # Nothing the page hides is in the file.
    assert not any(row[4] == "9" for row in rows[1:] if row[2] == "Bow East" and row[3] == "Referrals asked")


def test_the_whole_dashboard_the_report_and_the_pack_carry_the_section(march, client):
    from io import BytesIO

    from openpyxl import load_workbook

    from evidence import services
    from evidence.models import EvidenceExport

    funder = make_user(User.Role.FUNDER)
    rows = _csv(_get(client, funder, format="csv"))
    assert ["Delivery by area", "Referrals by area: answered, how fast, and outcomes", "The whole borough", "Referrals asked", "12", "12"] == rows[
        next(i for i, row in enumerate(rows) if row[0] == "Delivery by area" and row[2] == "The whole borough")
    ][:6]
    report = client.get(reverse("evidence:report"), PERIOD)
    assert report.status_code == 200 and 'id="section-areas"' in report.content.decode()
    export = services.request_export(user=funder, start=START, end=END, area=None)
    services.build_evidence_pack(export_id=export.pk)
    export.refresh_from_db()
    assert export.status == EvidenceExport.Status.READY
    with export.file.open("rb") as handle:
        workbook = load_workbook(BytesIO(handle.read()), read_only=True)
    values = [tuple(row) for row in workbook["Delivery by area"].iter_rows(values_only=True)]
    title = "Referrals by area: answered, how fast, and outcomes"
    assert (title, "Bow West", "Referrals asked", None, "fewer than 5") in values
    assert (title, "The whole borough", "Median hours to first response", 17.0, "17.0 hours") in values
    definitions = [tuple(row) for row in workbook["Definitions"].iter_rows(values_only=True)]
    deadline = next(row for row in definitions if row[1] == f"{title}: Answered within the deadline")
    assert "within 5 working days" in deadline[2] and "bank holidays" in deadline[2]
