"""Validation of our API's answers against the Open Referral UK schemas (directory.api.validation, which
the harvester uses for other directories' records too)."""

from directory.api.validation import page_validator, validator


def assert_valid(instance, name: str) -> None:
    errors = sorted(validator(name).iter_errors(instance), key=lambda error: list(error.path))
    assert not errors, "\n".join(f"{list(error.path)}: {error.message}" for error in errors[:10])


def assert_valid_page(body, item_schema: str | None) -> None:
    errors = list(page_validator().iter_errors(body))
    assert not errors, "\n".join(error.message for error in errors[:10])
    if item_schema:
        for item in body["contents"]:
            assert_valid(item, item_schema)
