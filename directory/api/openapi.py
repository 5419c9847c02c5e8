"""The OpenAPI document served at /api/oruk/openapi.json: the Open Referral UK profile's own
(schemas/openapi.json, CC BY-SA 4.0, see the NOTICE there), made self-contained and exact.

- The profile's schemas, which its document references at raw.githubusercontent.com, are served inline
  in components/schemas (with_inline_schemas), so reading the document needs nothing but the portal.
- Each query parameter declares what the API accepts (params.SCHEMAS): bounds, patterns, and no
  "type": "time", which is not a JSON Schema type (with_portal_parameters).
- The error answers are documented: 400 for a bad parameter, 404 for an unknown record or page, 429
  when throttled (with_portal_parameters).
- The portal's additions: /organizations, and the profile's optional parameters the portal supports
  (served_document).

tests/directory/test_oruk_contract.py runs Schemathesis against both this document and the profile's.
"""

import copy
import json
from functools import cache
from pathlib import Path

from . import params

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"

PROFILE_BASE = "https://raw.githubusercontent.com/openreferral/uk-profile/main/schema/"
# The profile's schema files as its document names them: the copy in schemas/ and the name each is
# served under in components/schemas.
PROFILE_SCHEMAS = {
    "compiled/service.json": ("service.json", "Service"),
    "compiled/service_list.json": ("service_list.json", "ServiceList"),
    "compiled/service_at_location.json": ("service_at_location.json", "ServiceAtLocation"),
    "compiled/service_at_location_list.json": ("service_at_location_list.json", "ServiceAtLocationList"),
    "compiled/organization.json": ("organization.json", "Organization"),
    "compiled/organization_list.json": ("organization_list.json", "OrganizationList"),
    "taxonomy.json": ("taxonomy.json", "Taxonomy"),
    "taxonomy_term.json": ("taxonomy_term.json", "TaxonomyTerm"),
}
# taxonomy.json refers to its terms relative to itself.
RELATIVE_REFS = {"taxonomy_term.json": "TaxonomyTerm"}

ERROR_SCHEMAS = {
    "BadParameter": {
        "type": "object",
        "required": ["error", "parameter", "message"],
        "properties": {
            "error": {"type": "string", "enum": ["bad_parameter"]},
            "parameter": {"type": "string", "description": "The query parameter that cannot be used."},
            "message": {"type": "string", "description": "What is wrong with it, and what to send instead."},
        },
    },
    "NotFound": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string", "enum": ["not_found"]},
            "parameter": {
                "type": "string",
                "description": "When a query parameter names the record (or page) that does not exist: which.",
            },
            "message": {"type": "string"},
        },
    },
    "Throttled": {
        "type": "object",
        "required": ["error", "message"],
        "properties": {"error": {"type": "string", "enum": ["throttled"]}, "message": {"type": "string"}},
    },
}


def _json(name: str) -> dict:
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def profile_document() -> dict:
    """The profile's OpenAPI document as published."""
    return _json("openapi.json")


def _point_refs(node, refs: dict[str, str]):
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str) and node["$ref"] in refs:
            return {**node, "$ref": f"#/components/schemas/{refs[node['$ref']]}"}
        return {key: _point_refs(value, refs) for key, value in node.items()}
    if isinstance(node, list):
        return [_point_refs(item, refs) for item in node]
    return node


def with_inline_schemas(document: dict) -> dict:
    """The document with the profile's schemas in components/schemas and its references pointing there.

    The schemas are JSON Schema 2020-12, as the document's jsonSchemaDialect says; that field and such
    schemas belong to OpenAPI 3.1, so the document says 3.1.0 (the profile's says 3.0.0)."""
    refs = {PROFILE_BASE + address: name for address, (_file, name) in PROFILE_SCHEMAS.items()}
    document = _point_refs(copy.deepcopy(document), refs)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for file_name, name in PROFILE_SCHEMAS.values():
        schemas[name] = _point_refs(_json(file_name), RELATIVE_REFS)
    document["openapi"] = "3.1.0"
    return document


def _error(description: str, schema: str, **extra) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
        **extra,
    }


def with_portal_parameters(document: dict) -> dict:
    """The document with each query parameter declaring what the API accepts and every operation its
    error answers."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(copy.deepcopy(ERROR_SCHEMAS))
    parameters = components.setdefault("parameters", {})
    parameters.setdefault(
        "parent_id",
        {"name": "parent_id", "in": "query", "required": False, "description": "Terms with this parent term."},
    )
    parameters.setdefault(
        "include_harvested",
        {
            "name": "include_harvested",
            "in": "query",
            "required": False,
            "description": (
                "Include services (and their organizations) this portal harvested from other directories. "
                "Off by default, so that directories harvesting each other never re-publish each other's records."
            ),
        },
    )
    for name, schema in params.SCHEMAS.items():
        if name in parameters:
            parameters[name]["schema"] = copy.deepcopy(schema)
    parameters["proximity"]["description"] += " Ignored without a postcode."
    for name in ("start_time", "end_time"):
        parameters[name]["description"] += " An offset (such as Z) is accepted and not applied: times are the borough's."
    components["responses"] = {
        "BadParameter": _error("A query parameter cannot be used; the answer names it.", "BadParameter"),
        "NotFound": _error("There is no such record, or no such page of results.", "NotFound"),
        "Throttled": _error(
            "Too many requests from this address: wait as many seconds as Retry-After says.",
            "Throttled",
            headers={"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 0}}},
        ),
    }
    for path, item in document["paths"].items():
        operation = item["get"]
        responses = operation.setdefault("responses", {})
        if operation.get("parameters"):
            responses["400"] = {"$ref": "#/components/responses/BadParameter"}
        # Every operation but the root may name a record (or a page) that does not exist.
        if path != "/":
            responses["404"] = {"$ref": "#/components/responses/NotFound"}
        responses["429"] = {"$ref": "#/components/responses/Throttled"}
    return document


def _list_operation(summary: str, operation_id: str, parameters: list[str], item_schema: str) -> dict:
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": [{"$ref": f"#/components/parameters/{name}"} for name in parameters],
            "responses": {
                "200": {
                    "description": summary,
                    "content": {
                        "application/json": {
                            "schema": {
                                "properties": {
                                    "contents": {"type": "array", "items": {"$ref": f"#/components/schemas/{item_schema}"}}
                                },
                                "allOf": [{"$ref": "#/components/schemas/Page"}],
                            }
                        }
                    },
                }
            },
        }
    }


@cache
def served_document() -> dict:
    """The document the portal serves, less its server address (added per request)."""
    document = with_inline_schemas(profile_document())
    paths = document["paths"]
    # The profile's document has no /organizations paths; the portal serves them, with the profile's
    # parameters and compiled schemas.
    paths["/organizations"] = _list_operation(
        "Paginated listing of organizations (infrastructure providers).",
        "getPaginatedListOfOrganizations",
        ["search", "page", "per_page", "full", "full_service", "modified_after", "include_harvested"],
        "OrganizationList",
    )
    paths["/organizations/{id}"] = {
        "parameters": [{"in": "path", "name": "id", "required": True, "schema": {"type": "string"}}],
        "get": {
            "summary": "A fully nested organization with its services.",
            "operationId": "getOrganizationById",
            "parameters": [
                {"$ref": "#/components/parameters/full_service"},
                {"$ref": "#/components/parameters/include_harvested"},
            ],
            "responses": {
                "200": {
                    "description": "The organization.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Organization"}}},
                }
            },
        },
    }
    # The profile's optional parameters the portal supports beyond those its document lists per path.
    extra = {
        "/services": ["organization_id", "modified_after", "full", "minimal", "include_harvested"],
        "/services/{id}": ["include_harvested"],
        "/service_at_locations": ["organization_id", "modified_after", "full", "include_harvested"],
        "/service_at_locations/{id}": ["include_harvested"],
        "/taxonomies": ["search"],
        "/taxonomy_terms": ["search", "taxonomy_id", "parent_id"],
    }
    for path, names in extra.items():
        paths[path]["get"].setdefault("parameters", []).extend({"$ref": f"#/components/parameters/{name}"} for name in names)
    # minimal=true lists the services' ids, names, statuses and dates: still items of the declared schema.
    minimal = document["components"]["parameters"]["minimal"]
    minimal["description"] = "Return just each service's id, name, status and last_modified (still service_list items)."
    root = paths["/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    root["required"] = ["version", "profile", "openapi_url"]
    root["properties"]["version"]["enum"] = ["HSDS-UK-3.0"]
    return with_portal_parameters(document)
