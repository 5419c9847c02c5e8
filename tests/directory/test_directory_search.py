"""The directory page (/directory/) and directory.search: every filter and combinations, search and its
ranking, sorting, pagination, bad values, the empty state and the regional and national section."""

import re
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from directory.models import Service
from directory.search import ServiceFilters, filter_services
from directory.selectors import REGIONAL_SHOWN, regional_and_national_providers
from organisations.models import Organisation
from tests.factories import make_location, make_organisation, make_service, term

pytestmark = pytest.mark.django_db
URL = "/directory/"


def provider(name="Bow Advice Trust", **overrides):
    return make_organisation(name=name, kinds=[term("organisation-kinds", Organisation.KIND_GENERAL)], **overrides)


@pytest.fixture
def services():
    bow = provider()
    island = provider("Island Trust")
    hall = make_location(organisation=island, ward=term("wards", "island-gardens"))
    return {
        "funding": make_service(
            organisation=bow,
            name="Funding advice surgery",
            description="Grant applications and budgets.",
            functions=[term("functions", "information-and-advice")],
            needs=[term("needs", "funding-and-fundraising")],
            segments=[term("segments", "bme-vcos")],
            communities=[term("communities", "women")],
            languages=[term("languages", "bn")],
            wards=[term("wards", "bow-east")],
            schedules=[("TU", "10:00", "13:00")],
            serves_stage_3=False,
            last_reviewed_on=timezone.localdate() - timedelta(days=5),
        ),
        "training": make_service(
            organisation=bow,
            name="Trustee training",
            description="Evening courses on governance for trustees.",
            functions=[term("functions", "training")],
            needs=[term("needs", "governance-and-trustees"), term("needs", "training")],
            communities=[term("communities", "young-people")],
            languages=[term("languages", "en")],
            schedules=[("WE", "18:00", "20:00")],
            is_free=False,
            fee_amount=25,
            serves_stage_1=False,
            geographic_level=Organisation.GeographicLevel.SUB_REGIONAL,
            last_reviewed_on=timezone.localdate() - timedelta(days=100),
        ),
        "premises": make_service(
            organisation=island,
            name="Premises advice",
            description="Leases, licences and community buildings; also some funding for repairs.",
            functions=[term("functions", "consultancy")],
            needs=[term("needs", "premises")],
            segments=[term("segments", "vcos-developing-or-managing-premises")],
            languages=[term("languages", "bn"), term("languages", "en")],
            locations=[hall],
            schedules=[("TU", "14:00", "16:00")],
        ),
    }


def found(client, **params) -> list[str]:
    response = client.get(URL, params)
    assert response.status_code == 200
    return [service.name for service in response.context["page"]]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, ["Funding advice surgery", "Premises advice", "Trustee training"]),
        ({"function": "training"}, ["Trustee training"]),
        ({"need": "premises"}, ["Premises advice"]),
        ({"segment": "bme-vcos"}, ["Funding advice surgery"]),
        ({"community": "young-people"}, ["Trustee training"]),
        ({"ward": "bow-east"}, ["Funding advice surgery"]),
        ({"ward": "island-gardens"}, ["Premises advice"]),  # through its location's ward
        ({"area": "sub_regional"}, ["Trustee training"]),
        ({"language": "bn"}, ["Funding advice surgery", "Premises advice"]),
        ({"free": "on"}, ["Funding advice surgery", "Premises advice"]),
        ({"stage": "1"}, ["Funding advice surgery", "Premises advice"]),
        ({"stage": "3"}, ["Premises advice", "Trustee training"]),
        ({"day": "TU"}, ["Funding advice surgery", "Premises advice"]),
        ({"day": "WE"}, ["Trustee training"]),
        ({"day": "SU"}, []),
        # Combinations narrow down.
        ({"language": "bn", "day": "TU", "free": "on"}, ["Funding advice surgery", "Premises advice"]),
        ({"language": "bn", "stage": "3"}, ["Premises advice"]),
        ({"need": "training", "free": "on"}, []),
        ({"q": "funding", "language": "en"}, ["Premises advice"]),
        ({"q": "funding", "ward": "bow-east", "day": "TU", "stage": "1"}, ["Funding advice surgery"]),
    ],
)
def test_filters_and_combinations(client, services, params, expected):
    assert sorted(found(client, **params)) == expected


def test_closed_services_and_closed_providers_are_not_listed(client, services):
    Service.objects.filter(pk=services["training"].pk).update(status=Service.Status.CLOSED)
    Organisation.objects.filter(name="Island Trust").update(is_active=False)
    assert found(client) == ["Funding advice surgery"]


def test_search_words_match_name_or_description(client, services):
    assert sorted(found(client, q="funding")) == ["Funding advice surgery", "Premises advice"]
    assert found(client, q="governance") == ["Trustee training"]
    assert found(client, q="nothing-like-this") == []


def test_exact_name_match_comes_first(client, services):
    # "Premises advice" mentions funding in its description only; the name match ranks first.
    assert found(client, q="Funding advice surgery")[0] == "Funding advice surgery"
    make_service(name="Advice", description="Advice advice advice about advice.")
    assert found(client, q="advice")[0] == "Advice"


@pytest.mark.postgres
def test_postgres_full_text_ranks_name_above_description(client, services):
    # Stemming: "budget" finds "budgets"; weight: name A above description B.
    assert found(client, q="budget") == ["Funding advice surgery"]
    names = found(client, q="premises")
    assert names[0] == "Premises advice"
    assert found(client, q='"community buildings"') == ["Premises advice"]
    assert connection.vendor == "postgresql"


@pytest.mark.parametrize("text", ['"quoted', "100%", "a_b", "back\\slash", "مرحبا", "😀", "'; drop table x;--", "-", "!!!", "&|!:*()"])
def test_search_survives_any_text(client, services, text):
    response = client.get(URL, {"q": text})
    assert response.status_code == 200


def test_percent_and_underscore_match_only_themselves(client, services):
    make_service(name="100% volunteer led", description="")
    assert found(client, q="100%") == ["100% volunteer led"]
    assert found(client, q="_") == []


def test_very_long_search_gives_a_message_not_an_error(client, services):
    response = client.get(URL, {"q": "x" * 10_000})
    assert response.status_code == 200
    assert "Some of your search could not be used" in response.content.decode()
    assert len(response.context["page"].object_list) == 3


@pytest.mark.parametrize(
    "params",
    [{"ward": "atlantis"}, {"need": "<script>"}, {"stage": "9"}, {"stage": "x"}, {"day": "Funday"}, {"sort": "random"}, {"area": "mars"}, {"page": "abc"}, {"page": "999"}],
)
def test_bad_filter_values_are_explained_and_left_out(client, services, params):
    response = client.get(URL, params)
    assert response.status_code == 200
    if "page" not in params:
        assert "Some of your search could not be used" in response.content.decode()
    assert "<script>" not in response.content.decode().split("</form>")[0].replace("&lt;script&gt;", "")


def test_each_result_shows_its_needs_or_else_its_functions_and_its_regular_times(client, services):
    no_needs = make_service(
        name="Drop-in IT clinic",
        functions=[term("functions", "training")],
        schedules=[("FR", "09:00", "10:00"), ("MO", "14:00", "15:00")],
    )
    items = {item.name: item for item in client.get(URL, {"sort": "name"}).context["page"]}
    in_vocabulary_order = sorted([term("needs", "governance-and-trustees"), term("needs", "training")], key=lambda t: (t.order, t.name))
    assert items["Trustee training"].shown_terms == [t.name for t in in_vocabulary_order]
    assert items["Drop-in IT clinic"].shown_terms == [term("functions", "training").name]
    assert [str(schedule) for schedule in items[no_needs.name].regular_times] == [
        "Mondays 14:00 to 15:00",
        "Fridays 09:00 to 10:00",
    ]
    content = client.get(URL, {"sort": "name"}).content.decode()
    assert "; ".join(t.name for t in in_vocabulary_order) in content and "Tuesdays 10:00 to 13:00" in content


def test_sorting(client, services):
    assert found(client, sort="name") == ["Funding advice surgery", "Premises advice", "Trustee training"]
    assert found(client, sort="reviewed") == ["Funding advice surgery", "Trustee training", "Premises advice"]


def test_result_count_pagination_and_shareable_links(client, services):
    for n in range(25):
        make_service(name=f"Extra service {n:02d}", description="Extra.", needs=[term("needs", "payroll")])
    response = client.get(URL, {"need": "payroll", "page": "2"})
    content = response.content.decode()
    assert "25 services found, page 2 of 2" in content
    assert response.context["page"].number == 2
    # Past the end, the last page (as Django's get_page does).
    assert client.get(URL, {"need": "payroll", "page": "999"}).context["page"].number == 2
    # Pagination and download links keep the filters.
    assert "need=payroll" in content
    assert 'href="/directory/download.csv?need=payroll"' in content


def test_empty_state_suggests_what_to_try(client, services):
    content = client.get(URL, {"q": "zebra crossing"}).content.decode()
    assert "No services match" in content
    assert "removing a filter" in content


def test_regional_and_national_section(client, services):
    provider("London Voluntary Partnership", geographic_level=Organisation.GeographicLevel.REGIONAL, activities="Across London.")
    provider("National Infrastructure Body", geographic_level=Organisation.GeographicLevel.NATIONAL)
    make_organisation(name="A national VCO", geographic_level=Organisation.GeographicLevel.NATIONAL)  # not a provider
    content = client.get(URL).content.decode()
    section = content.split('id="regional"')[1]
    assert "London Voluntary Partnership" in section and "National Infrastructure Body" in section
    assert "A national VCO" not in section
    assert "Bow Advice Trust" not in section
    assert 'id="regional-more"' not in section  # all of them are shown


def test_regional_and_national_section_counts_open_services(client, services):
    regional = provider("London Voluntary Partnership", geographic_level=Organisation.GeographicLevel.REGIONAL)
    make_service(organisation=regional, name="Pan-London training")
    make_service(organisation=regional, name="Old helpline", status=Service.Status.CLOSED)
    provider("Quiet National Body", geographic_level=Organisation.GeographicLevel.NATIONAL)
    shown = client.get(URL).context["regional"].shown
    assert [(p.name, p.open_services) for p in shown] == [("Quiet National Body", 0), ("London Voluntary Partnership", 1)]


def test_regional_and_national_section_lists_the_first_and_links_to_the_rest(client, services):
    # A big network's page stays short: the first REGIONAL_SHOWN by level and name, then how many there
    # are and a search by area served for each level that has any.
    names = [f"Regional body {n:02}" for n in range(REGIONAL_SHOWN + 1)]
    for name in reversed(names):
        provider(name, geographic_level=Organisation.GeographicLevel.REGIONAL)
    provider("Zed Sub-regional Network", geographic_level=Organisation.GeographicLevel.SUB_REGIONAL)
    with CaptureQueriesContext(connection) as queries:
        regional = regional_and_national_providers()
    assert len(queries) == 3
    assert regional.total == REGIONAL_SHOWN + 2
    # Ordered by the level's stored value, then name: "regional" before "sub_regional".
    assert [p.name for p in regional.shown] == names[:REGIONAL_SHOWN]
    assert regional.levels == [("sub_regional", "Sub-regional"), ("regional", "Regional")]
    section = client.get(URL).content.decode().split('id="regional"')[1]
    assert names[REGIONAL_SHOWN] not in section and "Zed Sub-regional Network" not in section
    assert f"These are the first {REGIONAL_SHOWN} of {REGIONAL_SHOWN + 2} providers." in section
    assert '<a href="?area=sub_regional">Sub-regional</a> · <a href="?area=regional">Regional</a></p>' in section


def test_queries_do_not_grow_with_results(client, services):
    client.get(URL)  # what is kept from the vocabulary (taxonomies.selectors.built_from_terms) is read once
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    for n in range(30):
        make_service(
            name=f"More {n}", needs=[term("needs", "payroll")], functions=[term("functions", "training")], schedules=[("MO", "09:00", "10:00")]
        )
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    assert len(many) == len(few)


def test_filter_services_unit_combines_schedule_conditions_on_one_row(services):
    filters = ServiceFilters(day="TU", sort="name")
    assert [s.name for s in filter_services(Service.objects.all(), filters)] == ["Funding advice surgery", "Premises advice"]


def test_nav_and_home_link_to_the_directory(client):
    assert 'href="/directory/"' in client.get("/").content.decode()


def test_filter_choices_are_kept_until_a_term_changes():
    from directory.forms import DirectoryFilterForm
    from taxonomies.models import TaxonomyTerm

    def need_choices() -> dict[str, str]:
        return dict(DirectoryFilterForm().fields["need"].choices)

    payroll = term("needs", "payroll")
    assert need_choices()["payroll"] == payroll.name
    with CaptureQueriesContext(connection) as captured:
        DirectoryFilterForm()
    assert not [query for query in captured if "taxonomies_taxonomyterm" in query["sql"]], "kept, not read again"

    payroll.name = "Payroll and pensions"
    payroll.save()
    assert need_choices()["payroll"] == "Payroll and pensions"
    added = TaxonomyTerm.objects.create(taxonomy=payroll.taxonomy, code="pensions", name="Pensions", order=999)
    assert need_choices()["pensions"] == "Pensions"
    added.delete()
    assert "pensions" not in need_choices()
    # A valid choice cleans to the term itself, as the search needs it.
    form = DirectoryFilterForm({"need": "payroll"})
    assert form.search_filters().needs == [payroll]


def test_taxonomy_version_is_read_once_a_request_and_afresh_after_a_change(client, services, monkeypatch):
    """taxonomies.selectors.taxonomy_version: within a request the shared cache is asked once (with
    Redis, its value kept while unchanged: core.cache.get_tracked), however many things are built from
    the terms (the directory page's filters and its results' terms); a term saved during the request,
    and every read outside a request, asks it again."""
    import core.cache
    from taxonomies.selectors import VERSION_KEY, remember_version_during_requests, taxonomy_version

    taxonomy_version()  # the version in the cache, as after any term's save
    reads = []
    real_get = core.cache.get_tracked
    monkeypatch.setattr(core.cache, "get_tracked", lambda cache, key, *args: reads.append(key) or real_get(cache, key, *args))

    def version_reads() -> int:
        count = reads.count(VERSION_KEY)
        reads.clear()
        return count

    taxonomy_version(), taxonomy_version()
    assert version_reads() == 2, "outside a request, every read is fresh"
    page = client.get(URL, {"q": "funding"})
    assert "Funding advice surgery" in page.content.decode()
    assert version_reads() == 1
    taxonomy_version()
    assert version_reads() == 1, "the request is over"

    remember_version_during_requests(started=True)  # as request_started does
    try:
        first = taxonomy_version()
        taxonomy_version()
        assert version_reads() == 1
        payroll = term("needs", "payroll")
        payroll.name = "Payroll and pensions"
        payroll.save()
        assert taxonomy_version() != first, "a change during the request is seen at once"
    finally:
        remember_version_during_requests(started=False)


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"q": '"a&b<', "need": "payroll", "language": "bn", "free": "on", "day": "MO", "area": "regional"},
        {"q": "x" * 300, "need": "nope", "stage": "x", "sort": "zzz", "ward": "<script>"},
        {"stage": "2", "sort": "name", "free": ""},
    ],
)
def test_filter_fields_are_the_markup_of_djangos_own_widgets(data):
    """The filters are built in Python (directory.forms._FastSelect, _FastInput and the filter_fields
    tag), with their options' markup kept between requests: the same HTML as Django's own widgets
    and templates give, selected values, ids, labels and error attributes included."""
    import re

    from django import forms
    from django.template import Context, Template

    from directory.forms import DirectoryFilterForm
    from directory.templatetags.directory import filter_fields

    def squeezed(html: str) -> str:
        return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", str(html))).strip()

    def stock(bound) -> str:
        widget = bound.field.widget
        if isinstance(widget, forms.Select):
            copy = forms.Select(attrs=widget.attrs, choices=widget.choices)
        elif isinstance(widget, forms.CheckboxInput):
            copy = forms.CheckboxInput(attrs=widget.attrs)
        else:
            copy = forms.TextInput(attrs={**widget.attrs, "type": widget.input_type})
        return bound.as_widget(widget=copy)

    for _twice in range(2):  # the second time from the kept options
        form = DirectoryFilterForm(data)
        form.search_filters()
        for bound in form:
            assert squeezed(bound) == squeezed(stock(bound)), bound.name
        reference = Template(
            '{% for field in form %}{% if field.name != "q" and field.name != "free" %}'
            '<div class="col-12 col-md-6 col-lg-3"><label class="form-label" for="{{ field.id_for_label }}">{{ field.label }}</label>'
            "{{ field }}</div>{% endif %}{% endfor %}"
            '<div class="col-12 col-md-6 col-lg-3"><div class="form-check">{{ form.free }} <label class="form-check-label" '
            'for="{{ form.free.id_for_label }}">{{ form.free.label }}</label></div></div>'
        ).render(Context({"form": form}))
        assert squeezed(filter_fields(form)) == squeezed(reference)
    html = squeezed(filter_fields(form))
    if data and data.get("need") == "payroll":
        assert '<option value="payroll" selected>' in html and '<option value="" selected>' not in html.split('name="need"')[1].split("</select>")[0]
        assert 'name="free" class="form-check-input" id="id_free" checked' in html
    if data and data.get("need") == "nope":
        assert 'name="need" class="form-select" aria-invalid="true" aria-describedby="id_need_error" id="id_need"' in html
        assert "&lt;script&gt;" not in html and "<script>" not in html  # a bad value is not echoed as markup


def test_result_list_escapes_every_value():
    """directory.templatetags.directory.result_list builds the results' markup in Python: every value
    from the database (names, links, description, terms, times, the listing directory) is escaped."""
    from django.template import Context

    from directory.selectors import ListedService
    from directory.templatetags.directory import result_list

    hostile = ListedService(
        pk=1,
        name="<b>Bold</b> & co",
        url='/services/a"b/',
        status="paused",
        is_free=True,
        description="<script>alert(1)</script> help",
        provider_name="O'Neil <Trust>",
        provider_url="/organisations/x?a=1&b=2/",
        shown_terms=["Payroll & <pensions>"],
        regular_times=["Mondays 09:00 to 12:00"],
        source_name="<i>Hackney</i>",
    )
    html = result_list(Context(), [hostile])
    assert '<a href="/services/a&quot;b/">&lt;b&gt;Bold&lt;/b&gt; &amp; co</a>' in html
    assert '<span class="badge text-bg-warning">Paused</span>' in html and '<span class="badge text-bg-success">Free</span>' in html
    assert 'By <a href="/organisations/x?a=1&amp;b=2/">O&#x27;Neil &lt;Trust&gt;</a>' in html
    assert '<span class="listed-by">listed by &lt;i&gt;Hackney&lt;/i&gt;</span>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; help" in html and "<script>" not in html
    assert "Payroll &amp; &lt;pensions&gt; · Mondays 09:00 to 12:00" in html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "one",
        " ".join(f"w{n}" for n in range(40)),
        " ".join(f"w{n}" for n in range(41)),
        " ".join(f"w{n}" for n in range(39)) + " …",
        " ".join(f"w{n}" for n in range(39)) + " … more",
        "tabs\tand\nnew  lines\r\n " * 30,
        "non\u00a0breaking spaces\u2003and\u3000wide " * 12,
    ],
)
def test_result_descriptions_are_cut_as_truncator_cuts_them(text):
    """result_list's own cut of a description (_first_words) gives what Truncator.words(40, " …") gives."""
    from django.utils.text import Truncator

    from directory.templatetags.directory import DESCRIPTION_WORDS, _first_words

    assert _first_words(text) == Truncator(text).words(DESCRIPTION_WORDS, truncate=" …")


@pytest.mark.parametrize("slug", ["payroll-bureau-2", "a_b", "x.y~z", "", "café", "a b", "50%", "a/b?c#d", "line\nbreak", "ünïcode-ß"])
def test_slug_links_are_reversed_links(slug):
    """directory.links.slug_url, which uses a slug of safe characters as it is, gives reverse()'s link
    for every slug, quoted where it must be."""
    from urllib.parse import quote

    from directory.links import slug_url

    for viewname in ("directory:service_detail", "organisations:organisation_detail"):
        expected = reverse(viewname, args=["slug-mark"]).replace("slug-mark", quote(slug, safe=""))
        assert slug_url(viewname)(slug) == expected
        if re.fullmatch(r"[-a-zA-Z0-9_]+", slug):  # what the patterns' slug converter takes
            assert expected == reverse(viewname, args=[slug])


def test_kept_filter_markup_follows_a_term_change():
    """The filters' markup is kept per search (filter_fields), under the terms kept for the taxonomies'
    data version: a renamed term shows at the next request."""
    from directory.forms import DirectoryFilterForm
    from directory.templatetags.directory import filter_fields

    def need_select() -> str:
        form = DirectoryFilterForm({"need": "payroll"})
        form.search_filters()
        return str(filter_fields(form)).split('name="need"')[1].split("</select>")[0]

    assert '<option value="payroll" selected>Payroll</option>' in need_select()
    assert need_select() == need_select()
    payroll = term("needs", "payroll")
    payroll.name = "Payroll and pensions"
    payroll.save()
    assert '<option value="payroll" selected>Payroll and pensions</option>' in need_select()


def test_the_pages_kept_words_follow_whether_it_was_searched(client, services):
    """The search button, the "clear" link and the download words are kept per language and per
    `filtered` (templates/directory/directory.html): each page still shows its own."""
    for _round in range(2):  # the second round reads what the first kept
        whole = client.get(URL).content.decode()
        searched = client.get(URL, {"q": "funding"}).content.decode()
        assert "Download the whole directory:" in whole and "Download these results:" not in whole
        assert "Clear search and filters" not in whole
        assert "Download these results:" in searched and "Download the whole directory:" not in searched
        assert f'<a class="btn btn-link" href="{URL}">Clear search and filters</a>' in searched
        for page in (whole, searched):
            assert '<button type="submit" class="btn btn-primary">Search</button>' in page
            assert f'<a href="{reverse("directory:api_guide")}">Open data (API)</a>' in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's")
def test_the_listing_query_is_prepared_once_per_database_session_and_again_after_a_failure():
    """selectors._listing_rows sends its PREPARE with its first EXECUTE in a session, then EXECUTE alone
    (one statement a page either way, the same rows); after a failed EXECUTE it prepares afresh."""
    from directory import selectors

    first, second = make_service(name="Payroll help"), make_service(name="Payroll advice")
    selectors._listing_prepared_on.clear()
    with CaptureQueriesContext(connection) as captured:
        rows = selectors._listing_rows([first.pk, second.pk])
        again = selectors._listing_rows([second.pk])
    assert [query["sql"].split()[:3] for query in captured.captured_queries] == [
        ["DEALLOCATE", "ALL;", "PREPARE"],
        ["EXECUTE", "directory_listing", "(ARRAY[%d]::bigint[])" % second.pk],
    ]
    assert sorted(row.name for row in rows) == ["Payroll advice", "Payroll help"]
    assert [row.name for row in again] == ["Payroll advice"]

    with pytest.raises(Exception), transaction.atomic():
        selectors._listing_rows(["not an id"])
    assert connection.connection not in selectors._listing_prepared_on
    with CaptureQueriesContext(connection) as captured:
        assert [row.name for row in selectors._listing_rows([first.pk])] == ["Payroll help"]
    assert captured.captured_queries[0]["sql"].startswith("DEALLOCATE ALL; PREPARE")


def test_each_search_reads_the_services_afresh(client, services):
    """search_directory starts every search from a query built once per process
    (selectors._listed_with_providers): a definition, never its results, and never narrowed by an
    earlier search's filters."""
    assert found(client, need="training") == ["Trustee training"]
    assert sorted(found(client)) == ["Funding advice surgery", "Premises advice", "Trustee training"]
    Service.objects.filter(pk=services["training"].pk).update(status=Service.Status.CLOSED)
    make_service(name="Payroll clinic", description="Payroll.", needs=[term("needs", "payroll")])
    assert sorted(found(client)) == ["Funding advice surgery", "Payroll clinic", "Premises advice"]


def test_the_result_count_reads_as_one_or_many(client, services):
    content = client.get(URL, {"q": "governance"}).content.decode()
    assert re.search(r"\s1 service found\.\n", content)
    content = client.get(URL, {"q": "funding"}).content.decode()
    assert re.search(r"\s2 services found\.\n", content)


# A shape's first search fills the kept statement, the second (other values, same kinds) reads it.
STATEMENT_SHAPES = [
    ({"need": "funding-and-fundraising"}, {"need": "premises"}),
    ({"function": "training"}, {"function": "consultancy"}),
    ({"segment": "bme-vcos"}, {"segment": "vcos-developing-or-managing-premises"}),
    ({"community": "women"}, {"community": "young-people"}),
    ({"ward": "bow-east"}, {"ward": "island-gardens"}),
    ({"need": "premises", "language": "bn"}, {"need": "training", "language": "en"}),
    ({"free": "on"}, {"free": "on"}),
    ({"stage": "1", "day": "TU"}, {"stage": "3", "day": "WE"}),
    ({"need": "premises", "free": "on", "day": "TU"}, {"need": "funding-and-fundraising", "free": "on", "day": "MO"}),
    ({}, {}),
]


@pytest.mark.postgres
@pytest.mark.parametrize("first, second", STATEMENT_SHAPES)
@pytest.mark.parametrize("words", ["funding", "it's 100% a_b \\ \"quoted\" -advice\x01 premises; drop table x;--"])
def test_a_kept_search_statement_is_what_django_compiles_with_the_values_as_parameters(services, monkeypatch, first, second, words):
    from django.http import QueryDict

    from directory import search
    from directory.forms import DirectoryFilterForm
    from directory.selectors import search_directory

    monkeypatch.setattr(search, "_MATCHES_STATEMENTS", {})

    def compiled(params):
        filters = DirectoryFilterForm(QueryDict(mutable=True) | {"q": words, **params}).search_filters()
        results = search_directory(filters)
        return search.matches_statement(results, filters), search._scored(results).query.sql_with_params(), results

    statement, _django, _results = compiled(first)
    assert len(search._MATCHES_STATEMENTS) == 1  # the shape is kept
    statement, (sql, params), results = compiled(second)
    assert statement == (sql, tuple(params))
    for value in ("100%", "it''s", "drop table", "a_b", "quoted", "funding", "premises"):
        assert value not in statement[0]  # every value stays a parameter
    with connection.cursor() as cursor:
        cursor.execute(*statement)
        assert sorted(cursor.fetchall()) == sorted(search._scored(results))
    assert search.first_matches(results, words, statement=statement) == search.first_matches(results, words)


@pytest.mark.postgres
@pytest.mark.parametrize("params", [{"q": "funding", "area": "national"}, {"q": "funding", "sort": "name"}, {"need": "premises"}])
def test_searches_by_area_or_not_ranked_have_no_kept_statement(params):
    from django.http import QueryDict

    from directory import search
    from directory.forms import DirectoryFilterForm
    from directory.selectors import search_directory

    filters = DirectoryFilterForm(QueryDict(mutable=True) | params).search_filters()
    assert search.matches_statement(search_directory(filters), filters) is None


def test_a_search_has_no_kept_statement_on_sqlite(services):
    from directory import search
    from directory.selectors import search_directory

    filters = ServiceFilters(text="funding")
    assert (search.matches_statement(search_directory(filters), filters) is None) == (connection.vendor != "postgresql")
