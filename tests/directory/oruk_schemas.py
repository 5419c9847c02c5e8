"""Validation against the Open Referral UK schemas copied into directory/api/schemas (CC BY-SA 4.0, see
the NOTICE there). Page wrappers are checked against the profile's Page component (openapi.json)."""

import json
from functools import cache

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from directory.api.openapi import SCHEMA_DIR

BASE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"


@cache
def _registry() -> Registry:
    resources = []
    for name in ("taxonomy.json", "taxonomy_term.json"):
        document = json.loads((SCHEMA_DIR / name).read_text())
        resources.append((BASE + name, Resource.from_contents(document, default_specification=DRAFT202012)))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    document = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    document = {"$id": BASE + ("compiled/" if name not in ("taxonomy", "taxonomy_term") else "") + f"{name}.json", **document}
    return Draft202012Validator(document, registry=_registry(), format_checker=FormatChecker())


@cache
def page_validator() -> Draft202012Validator:
    openapi = json.loads((SCHEMA_DIR / "openapi.json").read_text())
    page = dict(openapi["components"]["schemas"]["Page"])
    page["required"] = ["total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"]
    page["properties"] = {**page["properties"], "contents": {"type": "array"}}
    return Draft202012Validator(page, format_checker=FormatChecker())


def assert_valid(instance, name: str) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors[:10])


def assert_valid_page(body, item_schema: str | None) -> None:
    errors = list(page_validator().iter_errors(body))
    assert not errors, "\n".join(error.message for error in errors[:10])
    if item_schema:
        for item in body["contents"]:
            assert_valid(item, item_schema)
