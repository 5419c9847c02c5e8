"""Addresses the directory's pages link to in other apps, built without importing those apps."""

import re
from collections.abc import Callable
from urllib.parse import quote

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode

from core.links import fixed_url

_SLUG_MARK = "slug-mark"
# What quote(text, safe="") leaves as it is: a slug made of these alone is its own quoted form.
_UNQUOTED = re.compile(r"[A-Za-z0-9_.~-]*")


def slug_url(viewname: str) -> Callable[[str], str]:
    """reverse(viewname, args=[slug]) for many slugs, the pattern reversed once (and kept: see
    core.links.fixed_url): a list of results links each of its rows without resolving the URL patterns
    per row. A slug of letters, digits, - and _ (every slug the portal makes) is used as it is, without
    quote's work."""
    head, tail = fixed_url(viewname, _SLUG_MARK).split(_SLUG_MARK)
    return lambda slug: f"{head}{slug if _UNQUOTED.fullmatch(slug) else quote(slug, safe='')}{tail}"


def _ask_base() -> str:
    # The referrals app builds the page; until its URL is installed, its agreed address.
    try:
        return reverse("referrals:ask")
    except NoReverseMatch:
        return "/referrals/ask/"


def ask_for_support_url(service) -> str:
    """The referral form, with the provider and this service chosen."""
    return f"{_ask_base()}?{urlencode({'provider': service.organisation.uuid, 'service': service.uuid})}"


def ask_for_support_url_for(organisation) -> str:
    """The referral form, with this provider chosen."""
    return f"{_ask_base()}?{urlencode({'provider': organisation.uuid})}"
