"""Places where apps built on the directory add to what it shows, without the directory importing them
(dependencies point one way: directory is the base).

An accreditation source takes organisation ids and returns, for those that have any, the lines to show
as their accreditations (quality badges, for example). Apps register in their AppConfig.ready().
"""

from collections.abc import Callable, Iterable

AccreditationSource = Callable[[Iterable[int]], dict[int, list[str]]]
_accreditation_sources: list[AccreditationSource] = []


def register_accreditation_source(source: AccreditationSource) -> None:
    if source not in _accreditation_sources:
        _accreditation_sources.append(source)


def accreditations_for(organisation_ids: Iterable[int]) -> dict[int, list[str]]:
    """Every registered source's accreditations for these organisations, merged."""
    ids = list(organisation_ids)
    merged: dict[int, list[str]] = {}
    for source in _accreditation_sources:
        for organisation_id, lines in source(ids).items():
            merged.setdefault(organisation_id, []).extend(lines)
    return merged
