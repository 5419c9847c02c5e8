"""Validating records against the Open Referral UK schemas copied into directory/api/schemas (CC BY-SA
4.0, see the NOTICE there): the compiled schema of each response body, and the profile's Page wrapper
(openapi.json). The harvester checks every record it reads from another directory with these; the
tests check our own API's answers with the same ones.
"""

import json
from functools import cache

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from .openapi import SCHEMA_DIR

BASE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
# The compiled schemas refer to these two by their published address.
_REFERENCED = ("taxonomy", "taxonomy_term")


@cache
def _registry() -> Registry:
    resources = []
    for name in _REFERENCED:
        document = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        resources.append((BASE + f"{name}.json", Resource.from_contents(document, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """The validator of one schema: "service", "service_list", "organization", "taxonomy"..."""
    document = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    document = {"$id": BASE + ("" if name in _REFERENCED else "compiled/") + f"{name}.json", **document}
    return Draft202012Validator(document, registry=_registry(), format_checker=FormatChecker())


@cache
def page_validator() -> Draft202012Validator:
    """The profile's Page wrapper of list answers, every field required, its contents any array."""
    openapi = json.loads((SCHEMA_DIR / "openapi.json").read_text(encoding="utf-8"))
    page = dict(openapi["components"]["schemas"]["Page"])
    page["required"] = ["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"]
    page["properties"] = {**page["properties"], "contents": {"type": "array"}}
    return Draft202012Validator(page, format_checker=FormatChecker())


def problems(instance, name: str, *, limit: int = 3) -> list[str]:
    """Where and why `instance` breaks the schema `name` ("page" for the Page wrapper): [] when valid."""
    checker = page_validator() if name == "page" else validator(name)
    errors = sorted(checker.iter_errors(instance), key=lambda error: list(error.path))
    return [f"{'/'.join(str(part) for part in error.path) or '(record)'}: {error.message}" for error in errors[:limit]]
