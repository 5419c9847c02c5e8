"""core.templatetags.portal: the links to a list's pages (page_links, as the include's template loop
wrote them) and fragments kept per language ({% kept_per_language %})."""

import pytest
from django.core.paginator import Paginator
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import set_script_prefix
from django.utils import translation

# includes/pagination.html as it was before page_links: the reference every case is compared with.
TEMPLATE_LOOP = """{% load i18n portal %}{% if page.paginator.num_pages > 1 %}
<nav aria-label="{{ label|default:_('Pages') }}">
  <ul class="pagination flex-wrap">
    {% if page.has_previous %}
      <li class="page-item"><a class="page-link" rel="prev" href="{% query_with page=page.previous_page_number %}">{% translate "Previous" %}<span class="visually-hidden"> {% translate "page" %}</span></a></li>
    {% endif %}
    {% page_numbers page as numbers %}
    {% for number in numbers %}
      {% if number == page.number %}
        <li class="page-item active"><a class="page-link" aria-current="page" href="{% query_with page=number %}"><span class="visually-hidden">{% translate "Page" %} </span>{{ number }}</a></li>
      {% elif number == page.paginator.ELLIPSIS %}
        <li class="page-item disabled"><span class="page-link" aria-hidden="true">…</span></li>
      {% else %}
        <li class="page-item"><a class="page-link" href="{% query_with page=number %}"><span class="visually-hidden">{% translate "Page" %} </span>{{ number }}</a></li>
      {% endif %}
    {% endfor %}
    {% if page.has_next %}
      <li class="page-item"><a class="page-link" rel="next" href="{% query_with page=page.next_page_number %}">{% translate "Next" %}<span class="visually-hidden"> {% translate "page" %}</span></a></li>
    {% endif %}
  </ul>
</nav>
{% endif %}
"""


@pytest.mark.parametrize("query", ["", "q=funding&need=payroll", "page=3&q=a%26b+c&q=%C3%A9t%C3%A9&z=%00", "q=x&page=nope&sort=name"])
@pytest.mark.parametrize(("count", "number"), [(5, 1), (20, 1), (100, 1), (100, 2), (100, 5), (100, 50), (100, 99), (100, 100), (700, 12)])
@pytest.mark.parametrize("label", ["", "Pages of <results>"])
def test_page_links_write_what_the_template_loop_wrote(query, count, number, label):
    request = RequestFactory().get(f"/list/?{query}")
    page = Paginator(range(count), 10).get_page(number)
    context = {"request": request, "page": page, "label": label}
    included = Template('{% include "includes/pagination.html" %}').render(Context(context))
    assert included == Template(TEMPLATE_LOOP).render(Context(context))
    if page.paginator.num_pages > 1:
        assert 'aria-current="page"' in included and "?" in included


def test_page_links_without_a_page():
    request = RequestFactory().get("/list/")
    assert Template('{% include "includes/pagination.html" %}').render(Context({"request": request})) == "\n"


KEPT = Template(
    "{% load i18n portal static %}{% kept_per_language name=name %}{% get_current_language as language %}"
    "{{ language }} {{ name }} {{ secret }} {% url 'directory:directory' %} {% static 'css/portal.css' %}"
    "{% end_kept_per_language %}"
)


def test_kept_fragments_follow_the_language_the_url_prefix_settings_and_their_values():
    def shown(**context) -> str:
        return KEPT.render(Context({"name": "A & B", "secret": "only this request's", **context}))

    first = shown()
    assert first == "en-gb A &amp; B  /directory/ /static/css/portal.css", "the page's other values are not kept"
    assert shown(secret="another") == first
    assert shown(name="C") == "en-gb C  /directory/ /static/css/portal.css"
    with translation.override("fr"):
        assert shown().startswith("fr A &amp; B ")
    set_script_prefix("/portal/")
    try:
        assert "/portal/directory/" in shown()
    finally:
        set_script_prefix("/")
    with override_settings(STATIC_URL="/assets/"):
        assert "/assets/css/portal.css" in shown()
    assert shown() == first


def test_kept_fragments_on_the_directory_page_are_the_same_as_written(client, db):
    page = client.get("/directory/").content.decode()
    assert '<h1>Directory of support</h1>' in page
    assert '<form method="get" action="/directory/" class="card card-body mb-4 filter-form" role="search" aria-label="Search the directory">' in page
    assert '<a href="/organisations/">Organisations</a>' in page and '<link rel="stylesheet" href="/static/css/portal.css">' in page


@pytest.mark.parametrize(
    "query",
    ["", "q=a&page=2&q=b", "page=1", "q=%27%22%25_%5C&x=%00&page=3", "q=caf%C3%A9+%26+co&free=on", "a=&page=&b=1"],
)
@pytest.mark.parametrize("changes", [{}, {"page": None}, {"page": ""}, {"page": 7}, {"page": "\0", "new": "x y"}])
def test_query_pieces_are_what_a_changed_copy_of_the_query_encodes(query, changes):
    from django.http import QueryDict

    from core.parameters import query_pieces

    params = QueryDict(query)
    copied = params.copy()
    for name, value in changes.items():
        if value in (None, ""):
            copied.pop(name, None)
        else:
            copied[name] = value
    assert "&".join(query_pieces(params, changes)) == copied.urlencode()
    assert params.urlencode() == QueryDict(query).urlencode()  # left as it was
    latin = QueryDict(query + "&w=caf%E9", encoding="latin-1")  # a query string in another encoding
    copied = latin.copy()
    copied.pop("page", None)
    assert "&".join(query_pieces(latin, {"page": None})) == copied.urlencode()
