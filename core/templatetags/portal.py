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
