"""The network's matrix of providers by area, its gaps and its download."""

import io

from openpyxl import load_workbook

from quality import selectors
from tests.factories import make_provider, make_verified_badge


def test_matrix_states_per_provider_and_area(people):
    make_verified_badge(organisation=people.provider, levels={"governance": 3, "leadership": 0})
    matrix = selectors.provider_matrix()
    assert [area.code for area in matrix.areas][:2] == ["service-quality", "governance"]
    rows = {row.organisation.pk: row for row in matrix.rows}
    assert people.vco.pk not in rows  # providers only
    cells = dict(zip([a.code for a in matrix.areas], rows[people.provider.pk].cells, strict=True))
    assert cells["governance"].state == "above" and cells["governance"].label == "Level 3"
    assert cells["leadership"].state == "not_met"
    assert cells["service-quality"].state == "baseline"
    assert {cell.state for cell in rows[people.other_provider.pk].cells} == {"not_assessed"}


def test_gaps_name_areas_without_verified_providers(people):
    make_verified_badge(organisation=people.provider, levels={"governance": 2, "leadership": 0})
    gaps = selectors.provider_matrix().gaps
    assert "Leadership: no provider is verified at the baseline." in gaps
    assert "Leadership: 1 provider is verified as not meeting the baseline." in gaps
    assert "Service quality: no provider is verified above the baseline." in gaps
    assert not any(line.startswith("Governance") for line in gaps)


def test_matrix_query_count_does_not_grow_with_providers(people, django_assert_max_num_queries):
    for _ in range(5):
        make_verified_badge(organisation=make_provider())
    with django_assert_max_num_queries(5):
        small = selectors.provider_matrix()
    for _ in range(10):
        make_verified_badge(organisation=make_provider())
    with django_assert_max_num_queries(5):
        large = selectors.provider_matrix()
    assert len(large.rows) == len(small.rows) + 10


def test_matrix_page_and_downloads(people, client_as):
    make_verified_badge(organisation=people.provider, levels={"governance": 2})
    client = client_as(people.officer)
    page = client.get("/quality/matrix/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "The borough's gaps" in html and "Tower Hamlets CVS" in html and "Level 2" in html

    csv = client.get("/quality/matrix/?format=csv")
    assert csv["Content-Type"].startswith("text/csv")
    text = b"".join(csv.streaming_content).decode("utf-8-sig")
    header, *lines = text.strip().splitlines()
    assert header.startswith("Provider,Service quality,Governance")
    assert any(line.startswith("Tower Hamlets CVS,Baseline met,Level 2") for line in lines)

    xlsx = client.get("/quality/matrix/?format=xlsx&q=tower")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.values)
    assert rows[0][0] == "Provider" and [row[0] for row in rows[1:]] == ["Tower Hamlets CVS"]

    bad = client.get("/quality/matrix/?format=pdf", follow=True)
    assert "Unknown format" in bad.content.decode()


def test_matrix_is_for_officers_funders_and_admins(people, client_as):
    assert client_as(people.editor).get("/quality/matrix/").status_code == 403
    assert client_as(people.funder).get("/quality/matrix/").status_code == 200
    assert client_as(people.admin).get("/quality/matrix/").status_code == 200


def test_matrix_page_shows_fifty_providers_a_page_with_totals_over_all(people, client_as):
    for n in range(55):
        make_provider(name=f"Provider {n:02d}")
    client = client_as(people.admin)
    first = client.get("/quality/matrix/").content.decode()
    assert "57 providers (page 1 of 2)" in first and "Provider 00" in first and "Tower Hamlets CVS" not in first
    second = client.get("/quality/matrix/?page=2").content.decode()
    assert "Tower Hamlets CVS" in second
    assert client.get("/quality/matrix/?page=zzz").status_code == 200
