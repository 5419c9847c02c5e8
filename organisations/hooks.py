"""Places where apps built on organisations add to an organisation's page and accreditations, without
organisations importing them (dependencies point one way: organisations sit below the directory,
referrals, the calendar, quality and evidence).

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


# Sections other apps add to an organisation's page: template names, included with `organisation` in
# the context, in the main column or the side column.
_organisation_sections: dict[str, list[str]] = {"main": [], "aside": []}


def register_organisation_section(template_name: str, *, column: str = "main") -> None:
    if template_name not in _organisation_sections[column]:
        _organisation_sections[column].append(template_name)


def organisation_sections() -> dict[str, list[str]]:
    return {column: list(names) for column, names in _organisation_sections.items()}
