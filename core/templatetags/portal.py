"""Template helpers for every page of the portal: safe Markdown, JSON-LD scripts, navigation links,
query strings, page numbers and scrolling regions for wide tables. Loaded as `{% load portal %}`."""

import json

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

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


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, section: bool = True) -> SafeString:
    """A main-navigation item, marked aria-current on its own page (and, for a section, the pages below it)."""
    url = reverse(url_name)
    request = context.get("request")
    path = request.path if request else ""
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


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters changed, for pagination links."""
    query = context["request"].GET.copy()
    for name, value in changes.items():
        if value in (None, ""):
            query.pop(name, None)
        else:
            query[name] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag
def page_numbers(page) -> list:
    """Page numbers around the current page, with the paginator's ellipsis where numbers are left out."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))


class ScrollRegionNode(template.Node):
    def __init__(self, nodelist, label):
        self.nodelist, self.label = nodelist, label

    def render(self, context) -> str:
        return format_html(
            '<div class="table-responsive scroll-region" role="region" aria-label="{}" tabindex="0">{}</div>',
            self.label.resolve(context),
            mark_safe(self.nodelist.render(context)),
        )


@register.tag
def scroll_region(parser, token) -> ScrollRegionNode:
    """`{% scroll_region label %}<table>…</table>{% end_scroll_region %}`: a wide table scrolls sideways in its
    own named box, which a keyboard user can reach and scroll with the arrow keys (WCAG 2.1.1), instead
    of making a phone's whole page scroll sideways."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% scroll_region %} takes one argument: the region's name")
    nodelist = parser.parse(("end_scroll_region",))
    parser.delete_first_token()
    return ScrollRegionNode(nodelist, parser.compile_filter(bits[1]))
