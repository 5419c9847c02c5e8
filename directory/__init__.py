"""The directory: organisations (VCOs and providers), affiliations, member networks and memberships,
services, locations and schedules, the reminders they call for (planned here, stored and sent by
`notifications`), taxonomies, permissions, search, downloads and the Open Referral UK API. It builds
on `core` and `notifications` and imports no app above it; apps above add to its pages through
`directory.hooks` and to the reminder sweep through `notifications.tasks.register_sweep_step`.
"""
