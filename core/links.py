"""Addresses of pages that take no per-request part, reversed once in a process and kept."""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

_settings_changes = 0  # a change of settings (tests) forgets every kept address and fragment
_kept_urls: dict[tuple, str] = {}


@receiver(setting_changed)
def _forget_kept(**_signal) -> None:
    global _settings_changes
    _settings_changes += 1
    _kept_urls.clear()


def place() -> tuple:
    """What a fixed address or fragment depends on besides its own name: the language, the URL prefix
    and patterns it is reversed under, and the settings."""
    return (get_language(), get_script_prefix(), get_urlconf(), _settings_changes)


_PLACE_KEY = "core.links.place"


def place_of_rendering(context) -> tuple:
    """place(), read once per rendering of a template and kept in its render context: reading it is
    three context-local lookups, and a page's kept fragments and fixed links ask a dozen times. (The
    portal's templates switch no language with {% language %} while they render.)"""
    kept = context.render_context.get(_PLACE_KEY)
    if kept is None:
        kept = context.render_context[_PLACE_KEY] = place()
    return kept


def fixed_url(viewname: str, *args, at: tuple | None = None) -> str:
    """reverse(viewname, args=args), kept: for the navigation's and a page's fixed links, which every
    request would otherwise resolve again. `args` must have few possible values; `at`: place(), if
    the caller has it."""
    key = (viewname, args, *(at or place()))
    url = _kept_urls.get(key)
    if url is None:
        if len(_kept_urls) > 512:
            _kept_urls.clear()
        url = _kept_urls[key] = reverse(viewname, args=args)
    return url
