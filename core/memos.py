"""A page's memo: figures several parts of one page read, worked out once per page.

Selectors take an optional ``memo`` dict (the dashboard's scope has one) and ask ``once`` for what they
share, rather than each keeping its own "already worked out?" check.
"""

from collections.abc import Callable, Hashable


def once(memo: dict | None, key: Hashable, work: Callable, *, also_into: dict | None = None):
    """work() once per `memo` under `key`; every time without a memo. With `also_into` (another page
    part's memo, such as the period before's), the value is filed there too, unless it has its own."""
    if memo is None:
        return work()
    if key not in memo:
        memo[key] = work()
        if also_into is not None:
            also_into.setdefault(key, memo[key])
    return memo[key]
