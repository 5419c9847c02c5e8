"""Accounts: the portal's User (a person who logs in, with a portal-wide role), logging in by
username or email, password reset emails, the one object-permission helper every app asks
(`permissions.can` / `require`, with rules apps register) and the admin access every admin page uses
(`admin.NetworkAdminAccess`).

Plumbing: it imports only core.
"""
