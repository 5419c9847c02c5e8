"""Template helpers for every page of the portal: safe Markdown, JSON-LD scripts, navigation links,
query strings, page numbers, scrolling regions for wide tables and fragments kept per language.
Loaded as `{% load portal %}`."""

import functools
import json
from urllib.parse import quote_plus, urlencode

from django import template
from django.template.loader_tags import BlockNode
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from core.links import fixed_url, place, place_of_rendering
from core.parameters import query_pieces
from core.text import render_markdown

register = template.Library()

# Inside <script> the browser ends the element at "</script" whatever JSON thinks; escaping <, > and &
# as \u003C etc. keeps the data inert and is still the same JSON.
_JSON_SCRIPT_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.filter(name="markdown")
def markdown_filter(text: str) -> SafeString:
    """Organisations' own Markdown, sanitised (see core.text)."""
    return render_markdown(text)


def json_ld_script(data: dict) -> SafeString:
    payload = json.dumps(data, ensure_ascii=False, sort_keys=False).translate(_JSON_SCRIPT_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{payload}</script>')


# The pages of base.html's main navigation (its nav_link tags), by URL name.
MAIN_NAV = (
    "directory:directory",
    "organisations:organisation_list",
    "organisations:network_list",
    "calendar_events:event_list",
    "quality:material_list",
    "referrals:list",
    "evidence:index",
    "organisations:register",
)
_BELOW = "\0"  # no path has it: "url" + _BELOW is below url without being it


@functools.lru_cache(maxsize=16)
def _main_nav_urls(_place: tuple) -> tuple[str, ...]:
    """MAIN_NAV's addresses in a place (core.links.place), the longest first."""
    return tuple(sorted((fixed_url(name) for name in MAIN_NAV), key=len, reverse=True))


@register.filter
def nav_section(path: str) -> str:
    """The request's path reduced to what nav_link's marks depend on, so that the navigation can be
    kept per section rather than per path: the path itself if it is a navigation page; else the
    longest navigation page (not "/") it is below, plus a character no path has (every page above the
    path is above that one too); else ""."""
    urls = _main_nav_urls(place())
    if path in urls:
        return path
    return next((url + _BELOW for url in urls if url != "/" and path.startswith(url)), "")


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, section: bool = True) -> SafeString:
    """A main-navigation item, marked aria-current on its own page (and, for a section, the pages below
    it): `nav_path` is the request's path through nav_section."""
    url = fixed_url(url_name, at=place_of_rendering(context))
    path = context.get("nav_path", "")
    if path == url:
        current = "page"
    elif section and url != "/" and path.startswith(url):
        current = "true"
    else:
        current = ""
    if current:
        return format_html(
            '<li class="nav-item"><a class="nav-link active" aria-current="{}" href="{}">{}</a></li>',
            current,
            url,
            label,
        )
    return format_html('<li class="nav-item"><a class="nav-link" href="{}">{}</a></li>', url, label)


@register.simple_tag(takes_context=True, name="fixed_url")
def fixed_url_tag(context, viewname: str) -> str:
    """`{% fixed_url "login" as login_url %}`: {% url %} for an address without arguments, reversed once
    per place (core.links.fixed_url) rather than on every page."""
    return fixed_url(viewname, at=place_of_rendering(context))


_QUERY_MARK = "\0"  # a value no link keeps: QueryDict.urlencode writes it as %00


def _marked_query(context, names) -> list[str]:
    """The current query string's pieces ("name=value"), the parameters `names` set to a mark: copied
    and encoded once per rendering, for the links that change those parameters."""
    key = ("query_with", *names)
    pieces = context.render_context.get(key)
    if pieces is None:
        pieces = context.render_context[key] = query_pieces(context["request"].GET, dict.fromkeys(names, _QUERY_MARK))
    return pieces


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed, for pagination links."""
    if any(value in (None, "") for value in changes.values()):
        return "?" + "&".join(query_pieces(context["request"].GET, changes))
    # A page of links changes the same parameters each time: each link puts its own values in the
    # marked places.
    marked = {urlencode({name: _QUERY_MARK}): urlencode({name: value}) for name, value in changes.items()}
    return "?" + "&".join([marked.get(piece, piece) for piece in _marked_query(context, changes)])


def _page_href(context):
    """query_with(context, page=number) as an escaped href, for many numbers: the query around the
    page's place encoded and escaped once."""
    pieces = _marked_query(context, ("page",))
    place = pieces.index(urlencode({"page": _QUERY_MARK}))
    head = escape("?" + "".join(f"{piece}&" for piece in pieces[:place]) + "page=")
    tail = escape("".join(f"&{piece}" for piece in pieces[place + 1 :]))
    return lambda number: f"{head}{quote_plus(str(number))}{tail}"


@register.simple_tag(takes_context=True)
def page_links(context, page, label: str = "") -> SafeString:
    """The links to a list's other pages (includes/pagination.html): previous, the numbers around this
    page with the paginator's ellipsis where numbers are left out, next. Built here rather than by a
    template loop over the numbers (each with a condition, its words translated and its query string
    built again); nothing when there is one page. The words are translated once per language."""
    paginator = getattr(page, "paginator", None)
    if paginator is None or not paginator.num_pages > 1:
        return mark_safe("\n")
    words = _page_words(place_of_rendering(context))
    href = _page_href(context)

    parts = [f'\n<nav aria-label="{escape(label) if label else words["Pages"]}">\n  <ul class="pagination flex-wrap">\n    ']
    if page.has_previous():
        parts.append(
            f'\n      <li class="page-item"><a class="page-link" rel="prev" href="{href(page.previous_page_number())}">'
            f'{words["Previous"]}<span class="visually-hidden"> {words["page"]}</span></a></li>\n    '
        )
    parts.append("\n    \n    ")
    hidden_page = f'<span class="visually-hidden">{words["Page"]} </span>'
    for number in page_numbers(page):
        if not isinstance(number, int):  # the paginator's ellipsis (lazy text: compared, it is translated)
            item = '<li class="page-item disabled"><span class="page-link" aria-hidden="true">…</span></li>'
        elif number == page.number:
            item = f'<li class="page-item active"><a class="page-link" aria-current="page" href="{href(number)}">{hidden_page}{number}</a></li>'
        else:
            item = f'<li class="page-item"><a class="page-link" href="{href(number)}">{hidden_page}{number}</a></li>'
        parts.append(f"\n      \n        {item}\n      \n    ")
    parts.append("\n    ")
    if page.has_next():
        parts.append(
            f'\n      <li class="page-item"><a class="page-link" rel="next" href="{href(page.next_page_number())}">'
            f'{words["Next"]}<span class="visually-hidden"> {words["page"]}</span></a></li>\n    '
        )
    parts.append("\n  </ul>\n</nav>\n\n")
    return mark_safe("".join(parts))


@functools.lru_cache(maxsize=16)
def _page_words(_place: tuple) -> dict[str, str]:
    """page_links's words, translated and escaped once per language (core.links.place)."""
    return {
        "page": escape(gettext("page")),
        "Page": escape(gettext("Page")),
        "Pages": escape(gettext("Pages")),
        "Previous": escape(gettext("Previous")),
        "Next": escape(gettext("Next")),
    }


@register.simple_tag
def page_numbers(page) -> list:
    """Page numbers around the current page, with the paginator's ellipsis where numbers are left out."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


def scroll_region(content: SafeString, *, label: str = "", labelled_by: str = "") -> SafeString:
    """A wide table in its own box that scrolls sideways, named (by `label`, or by the id of the table's
    caption in `labelled_by`) and reachable with the keyboard, whose arrow keys then scroll it (WCAG
    2.1.1), so a phone's page never scrolls sideways."""
    name = format_html('aria-labelledby="{}"', labelled_by) if labelled_by else format_html('aria-label="{}"', label)
    return format_html('<div class="table-responsive scroll-region" role="region" {} tabindex="0">{}</div>', name, content)


class ScrollRegionNode(template.Node):
    def __init__(self, nodelist, label, labelled_by):
        self.nodelist, self.label, self.labelled_by = nodelist, label, labelled_by

    def render(self, context) -> str:
        return scroll_region(
            mark_safe(self.nodelist.render(context)),
            label=self.label.resolve(context) if self.label else "",
            labelled_by=self.labelled_by.resolve(context) if self.labelled_by else "",
        )


@register.tag(name="scroll_region")
def scroll_region_tag(parser, token) -> ScrollRegionNode:
    """`{% scroll_region _("Name") %}<table>…</table>{% end_scroll_region %}`, or
    `{% scroll_region labelled_by="caption-id" %}` to name the box by the table's caption."""
    bits = token.split_contents()[1:]
    if len(bits) != 1:
        raise template.TemplateSyntaxError('{% scroll_region %} takes a name, or labelled_by="<caption id>"')
    nodelist = parser.parse(("end_scroll_region",))
    parser.delete_first_token()
    if bits[0].startswith("labelled_by="):
        return ScrollRegionNode(nodelist, None, parser.compile_filter(bits[0].removeprefix("labelled_by=")))
    return ScrollRegionNode(nodelist, parser.compile_filter(bits[0]), None)


# Fragments kept per language --------------------------------------------------------------------


class KeptPerLanguageNode(template.Node):
    KEPT_MAX = 64
    # Rendered whole and kept, it holds no block a child template could fill (kept_per_language_tag
    # refuses one), so {% extends %}'s search for blocks, on every rendering, need not walk inside it.
    child_nodelists = ()

    def __init__(self, nodelist, values: dict):
        self.nodelist, self.values = nodelist, values
        self.kept: dict[tuple, SafeString] = {}

    def render(self, context) -> str:
        values = {name: value.resolve(context) for name, value in self.values.items()}
        key = (*place_of_rendering(context), context.autoescape, *values.items())
        html = self.kept.get(key)
        if html is None:
            if len(self.kept) >= self.KEPT_MAX:
                self.kept.clear()
            # Rendered on its own, with its named values alone: anything else of the page's would read
            # as empty here, rather than being kept for everyone.
            html = self.kept[key] = mark_safe(self.nodelist.render(context.new(values)))
        return html


@register.tag(name="kept_per_language")
def kept_per_language_tag(parser, token) -> KeptPerLanguageNode:
    """`{% kept_per_language [name=value ...] %}…{% end_kept_per_language %}`: markup that is the same
    for every request in a language (fixed words, {% url %} and {% static %} links, the named values,
    which must have few possible values), rendered once per language and values, then kept in this
    process: the page layout's and a page's fixed parts cost nothing per request."""
    values = {}
    for bit in token.split_contents()[1:]:
        name, equals, value = bit.partition("=")
        if not equals or not name.isidentifier():
            raise template.TemplateSyntaxError("{% kept_per_language %} takes name=value pairs only")
        values[name] = parser.compile_filter(value)
    nodelist = parser.parse(("end_kept_per_language",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("{% kept_per_language %} cannot hold a {% block %}: put the block around it")
    return KeptPerLanguageNode(nodelist, values)
