"""Taxonomies: the controlled vocabularies (infrastructure functions, support needs, specialist
segments, communities, wards, languages, organisation kinds) that organisations, services,
referrals, materials and evidence are tagged with; their seed lists (`vocabulary`) and admin.

Plumbing: it imports only core and accounts, so every app can reach it without reaching up.
"""
