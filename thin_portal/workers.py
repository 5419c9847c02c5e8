"""What a web worker does once, after Django is set up and before its first request."""

import gc

from django.urls import get_resolver

# Collections of the youngest generation, in container objects allocated (net) between two of them.
# Python's default, 700, set one off every three or four directory searches, each walking every object
# the request had made so far: some 0.2 ms, and the old generations' collections it leads to cost more.
# A request's cycles are few and small: collected every few dozen requests instead, they hold little
# memory for the while.
YOUNG_COLLECTION_THRESHOLD = 20_000


def settle() -> None:
    """Import every view module now, then move everything loaded so far out of the cyclic garbage
    collector's sight (gc.freeze): otherwise each full collection walks Django's hundred thousand or
    so long-lived objects, a pause of tens of milliseconds that lands on some unlucky request. And
    collect the youngest generation less often (YOUNG_COLLECTION_THRESHOLD)."""
    get_resolver().url_patterns  # noqa: B018  (the property imports the URLconf and every view)
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION_THRESHOLD, *gc.get_threshold()[1:])
