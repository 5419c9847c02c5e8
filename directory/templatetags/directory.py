"""Template helpers for the directory's parts of other pages. Loaded as `{% load directory %}`."""

import functools
from dataclasses import dataclass
from html import escape

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from accounts.permissions import can
from core.links import place_of_rendering

from .. import links, selectors

register = template.Library()


@dataclass
class OrganisationServices:
    services: list
    can_edit: bool
    ask_url: str


@register.simple_tag(takes_context=True)
def organisation_services(context, organisation) -> OrganisationServices:
    """The services section of an organisation's page: closed ones too for those who keep them."""
    can_edit = can(context["request"].user, "directory.change_service", organisation)
    return OrganisationServices(
        services=list(selectors.services_of(organisation, include_closed=can_edit)),
        can_edit=can_edit,
        ask_url=links.ask_for_support_url_for(organisation),
    )


@register.simple_tag(takes_context=True)
def result_list(context, services) -> SafeString:
    """The directory's results (selectors.ListedService), as the page lists them. Built here rather
    than by a template loop: twenty results of a dozen template nodes each were most of the page's
    rendering, and their fixed words are translated once per language (_result_words), not per page.
    Every value is escaped (the standard library's escape: the same characters as Django's, without
    its lazy-text checks per value)."""
    words = _result_words(place_of_rendering(context))
    items = []
    for service in services:
        details = "; ".join(service.shown_terms)
        if service.regular_times:
            details += " · " + "; ".join(service.regular_times)
        provider = words.by % {"url": escape(service.provider_url), "name": escape(service.provider_name)}
        if service.source_name:
            provider += f' · <span class="listed-by">{escape(words.listed_by % {"source": service.source_name})}</span>'
        items.append(
            f'<li class="border-bottom py-3">\n    <h2 class="h5 mb-1"><a href="{escape(service.url)}">{escape(service.name)}</a>'
            f'{words.paused if service.status == "paused" else ""}{words.free if service.is_free else ""}</h2>\n'
            f'    <p class="mb-1 small">{provider}</p>\n'
            f'    <p class="mb-1">{escape(_first_words(service.description))}</p>\n'
            f'    <p class="mb-0 small text-muted">{escape(details)}</p>\n  </li>'
        )
    return mark_safe('<ul class="list-unstyled service-list">\n  ' + "\n  ".join(items) + "\n</ul>")


@register.simple_tag
def result_count_words(count, page) -> SafeString:
    """How many results there are and which page this is ("About 12,000 services found, page 2 of
    about 600"), for count a selectors.ResultCount: the three {% blocktranslate %} it replaces (the
    same messages) cost a sixth of the page's rendering."""
    number, pages = page.number, page.paginator.num_pages
    if count.estimated:
        return _with_values(
            gettext("About %(count)s services found, page %(number)s of about %(pages)s"),
            count=intcomma(count.number),
            number=number,
            pages=intcomma(pages),
        )
    text = _with_values(
        ngettext("%(count)s service found", "%(count)s services found", count.number), count=intcomma(count.number)
    )
    if pages > 1:
        text += _with_values(gettext(", page %(number)s of %(pages)s"), number=number, pages=pages)
    return text


def _with_values(message: str, **values) -> SafeString:
    """A translated message with its values escaped, as {% blocktranslate %} fills it."""
    return mark_safe(message % {name: conditional_escape(value) for name, value in values.items()})


@register.simple_tag
def download_links(downloads) -> SafeString:
    """The (name, url) download links of a list, separated by middle dots."""
    return mark_safe(" · ".join(format_html('<a href="{}" download>{}</a>', url, name) for name, url in downloads))


@dataclass(frozen=True)
class _ResultWords:
    by: str
    paused: str
    free: str
    listed_by: str


@functools.lru_cache(maxsize=16)
def _result_words(_place: tuple) -> _ResultWords:
    """result_list's fixed words and badges in the language of `_place` (core.links.place)."""
    return _ResultWords(
        by=gettext('By <a href="%(url)s">%(name)s</a>'),
        paused=" " + format_html('<span class="badge text-bg-warning">{}</span>', gettext("Paused")),
        free=" " + format_html('<span class="badge text-bg-success">{}</span>', gettext("Free")),
        listed_by=gettext("listed by %(source)s"),
    )


DESCRIPTION_WORDS = 40


def _first_words(text: str) -> str:
    """Truncator(text).words(DESCRIPTION_WORDS, truncate=" …"), without its lazy object per call: the
    words joined by single spaces, " …" after them when some were left out."""
    words = text.split()
    if len(words) <= DESCRIPTION_WORDS:
        return " ".join(words)
    shown = " ".join(words[:DESCRIPTION_WORDS])
    return shown if shown.endswith(" …") else f"{shown} …"


@register.simple_tag
def filter_fields(form) -> SafeString:
    """The directory's filters (every field of its DirectoryFilterForm but the search words), each
    with its label, and the free-only box. Built here rather than by a template loop over the fields,
    and kept for the last few hundred different searches: what the filters show follows from the terms
    kept for the taxonomies' data version, the language and the values asked for alone (their errors
    too: each filter is checked on its own value)."""
    values = tuple(form.data.get(name) for name in form.fields if name != "q") if form.is_bound else None
    return _kept_filter_fields(_KeyedForm((id(form.kept_terms), get_language(), values), form))


class _KeyedForm:
    """A form hashed and compared by `key` alone, for functools.lru_cache; the form is let go once its
    markup is made. The terms it was built from (DirectoryFilterForm.kept_terms, whose id is in the key)
    are held while the markup is kept, so that no other object takes their id."""

    def __init__(self, key: tuple, form):
        self.key, self.form, self.terms = key, form, form.kept_terms

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other) -> bool:
        return isinstance(other, _KeyedForm) and self.key == other.key


@functools.lru_cache(maxsize=256)
def _kept_filter_fields(keyed: _KeyedForm) -> SafeString:
    html = _filter_fields_html(keyed.form)
    keyed.form = None
    return html


def _filter_fields_html(form) -> SafeString:
    cells = [
        format_html(
            '<div class="col-12 col-md-6 col-lg-3">\n      <label class="form-label" for="{}">{}</label>\n      {}\n    </div>',
            field.id_for_label,
            field.label,
            field,
        )
        for field in form
        if field.name not in ("q", "free")
    ]
    free = form["free"]
    cells.append(
        format_html(
            '<div class="col-12 col-md-6 col-lg-3">\n      <div class="form-check">{} '
            '<label class="form-check-label" for="{}">{}</label></div>\n    </div>',
            free,
            free.id_for_label,
            free.label,
        )
    )
    return mark_safe("\n    ".join(cells))
