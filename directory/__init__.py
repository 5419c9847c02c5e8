"""The provider directory: services, the locations they run at, their opening times and contacts;
search with filter facets (kept by PostgreSQL triggers, see migrations 0002-0004), downloads, the
print view, the yearly service review, and the Open Referral UK 3.0 API (`directory.api`).

It builds on organisations and the plumbing below it and imports no app above it; it adds its
services section to the organisation page through `organisations.hooks`.
"""
