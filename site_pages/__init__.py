"""Site pages: the accessibility statement, the privacy notice, the cookies page and the contact page,
linked from every page's footer and kept by network admins in the admin (Markdown, with the referral
retention period filled in from the settings).

Plumbing: it imports only core and accounts.
"""
