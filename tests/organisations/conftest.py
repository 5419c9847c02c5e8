"""Fixtures for the organisations tests: the people around one VCO (tests/people.py)."""

from tests.people import PASSWORD, client_as, media_root, people  # noqa: F401  (fixtures)
