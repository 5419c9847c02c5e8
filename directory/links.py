"""Addresses the directory's pages link to in other apps, built without importing those apps."""

from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode


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
