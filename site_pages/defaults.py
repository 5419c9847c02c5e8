"""The first text of each statement page, loaded by migration 0002. Network admins adapt them in the
admin (the network's name, address and contacts are theirs to fill in)."""

ACCESSIBILITY = """This statement applies to the THIN Community Portal. The network wants as many people as possible to
be able to use it. You should be able to:

- change colours, contrast levels and fonts using your browser or device settings
- zoom in up to 400% without the text spilling off the screen
- navigate the whole portal using just a keyboard
- navigate most of the portal using speech recognition software
- listen to most of the portal using a screen reader

## How accessible this portal is

The portal aims to meet the Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA. Every
page is checked with automated accessibility tests as the portal is built. Automated tests do not find
every problem, and some parts may not yet be fully accessible.

## Reporting accessibility problems

If you find a problem with the portal, or you need information in a different format, such as large
print, easy read or audio, contact the network's office (see "Contact us"). Tell us the web address of
the page, what the problem is, and what you were trying to do. We will reply within 10 working days.

## Enforcement procedure

If you are not happy with how we respond to your complaint, contact the Equality Advisory and Support
Service (EASS).
"""

PRIVACY = """This notice explains what personal data the THIN Community Portal holds, why, how long it is kept and
what your rights are. The network runs the portal and is the data controller.

## What we hold and why

- **Accounts**: your name, email address and role, so you can log in and act for your organisation.
- **Organisations' records**: contact names, email addresses and phone numbers that organisations give
  us, shown publicly only where the organisation chooses.
- **Referrals**: when a group asks for support, the contact person's name, email address and phone
  number and what support is needed, shared only with the provider the request is sent to and the
  network's admins.
- **Bookings**: which events you booked, so organisers can plan and remind you.
- **Monitoring and evidence**: figures from joint projects. Funders only ever see totals, with small
  numbers withheld so that nobody can be picked out.

We use this data to run the network's services, on the basis of our legitimate interests and, for
referrals, your consent.

## How long we keep it

- Referrals: personal details are removed {referral_retention_days} days after a referral is closed.
  The anonymous figures remain.
- Accounts: until you ask us to close yours, or the organisation leaves the network.
- Emails the portal sends are kept as records for up to a year.

## Your rights

You can ask to see the personal data we hold about you, to have it corrected, to have it exported in a
common format, or to have it erased. Network admins can export or erase everything about one referral
contact from the portal. Contact the network's office (see "Contact us"). You can also complain to the
Information Commissioner's Office (ico.org.uk).
"""

COOKIES = """The portal puts small files (cookies) on your device only to make the portal work. It does not use
analytics or advertising cookies, and nothing is shared with other websites.

- **sessionid** keeps you logged in. It expires when you log out, or after two weeks.
- **csrftoken** protects the forms you send from being forged by other sites. It expires after a year.

Because these cookies are essential to the portal working, it does not ask for your consent to them.
"""

CONTACT = """Contact the network's office for help with the portal, your organisation's record, accessibility or
your personal data.

- Email: write the office's address here
- Phone: write the office's number here, with its opening hours
- Post: write the office's address here

A network admin keeps this page up to date in the administration pages ("Statements and contact").
"""

PAGES = {
    "accessibility": ("Accessibility statement", ACCESSIBILITY),
    "privacy": ("Privacy notice", PRIVACY),
    "cookies": ("Cookies", COOKIES),
    "contact": ("Contact us", CONTACT),
}


def seed_pages(SitePage) -> None:
    """Each page with its first text, unless it is there already (as an admin left it). `SitePage` is the
    model, historical (in a migration) or real."""
    for kind, (title, body) in PAGES.items():
        SitePage.objects.get_or_create(kind=kind, defaults={"title": title, "body": body})
