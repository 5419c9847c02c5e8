"""The directory: organisations (VCOs and providers), affiliations, member networks and memberships,
services, locations and schedules, reminders, taxonomies, permissions, search, downloads and the Open
Referral UK API. It builds on `core` (plumbing) and imports no other app; apps above it add to its
pages through `directory.hooks`.
"""
