"""What a web worker does once, after Django is set up and before its first request."""

import gc

from django.urls import get_resolver


def settle() -> None:
    """Import every view module now, then move everything loaded so far out of the cyclic garbage
    collector's sight (gc.freeze). Otherwise each full collection walks Django's hundred thousand or
    so long-lived objects: a pause of tens of milliseconds that lands on some unlucky request."""
    get_resolver().url_patterns  # noqa: B018  (the property imports the URLconf and every view)
    gc.freeze()
