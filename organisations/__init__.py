"""The VCO database: organisations (VCOs and infrastructure providers, one model told apart by
kind) and their public pages, the people linked to them (affiliations), member networks and
memberships, renewals and the yearly details check, registration, the change log, member
import/export, and the demo borough.

It builds on the plumbing (core, accounts, taxonomies, notifications) and imports no app above it;
apps above add to an organisation's page and to its accreditations through `organisations.hooks`,
and the reminder sweep runs its planning step (registered in OrganisationsConfig.ready()).
"""
