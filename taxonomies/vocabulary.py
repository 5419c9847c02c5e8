"""The network's shared vocabulary, from the THIN design brief. Seeded by a data migration; after that
it is data that network admins edit in the admin."""

from django.utils.text import slugify

# (code, name, description, terms). A term is a name, or (name, [child names]) for a grouped list.
TAXONOMIES = [
    (
        "organisation-kinds",
        "Organisation kinds",
        "What an organisation is within the network. A provider can be both general and specialist.",
        [
            ("vco", "Voluntary or community organisation (VCO)"),
            ("general", "General primary infrastructure organisation"),
            ("specialist", "Specialist primary infrastructure organisation"),
            ("network", "VCS network"),
            ("secondary", "Secondary or tertiary infrastructure organisation"),
        ],
    ),
    (
        "functions",
        "Infrastructure functions",
        "The services an infrastructure provider offers.",
        [
            ("Support and development", ["Information and advice", "Consultancy", "Training", "Fund distribution", "Incubation facilities"]),
            ("Co-ordination", ["Service co-ordination", "Brokerage of services", "Co-ordination of common interest groups", "Cross-sector working"]),
            ("Representation", ["Consultation", "Lobbying"]),
            ("Sector promotion", ["Research", "Policy", "Standards and best practice", "Sector development"]),
        ],
    ),
    (
        "needs",
        "Support needs",
        "What a VCO can ask for help with.",
        [
            "Training",
            "Community accountancy and finance",
            "ICT support",
            "HR and employment advice",
            "Governance and trustees",
            "Funding and fundraising",
            "Volunteers and volunteering",
            "Premises",
            "Setting up a new group",
            "Social enterprise development",
            "BME specialist support",
            "Policy and information",
            "Quality assurance",
            "DBS (criminal record) checks",
            "Payroll",
            "Health and safety",
            "Partnership and consortium working",
            "Public service delivery and commissioning",
        ],
    ),
    (
        "segments",
        "Specialist segments",
        "Parts of the sector that specialist providers focus on.",
        [
            "BME VCOs",
            "Community and social enterprises",
            "VCOs developing or managing premises",
            "Workforce development of VCO staff and management",
            "VCOs managing volunteers",
            "VCOs working with early years",
            "VCOs working with young people",
            "VCOs working with older people",
        ],
    ),
    (
        "communities",
        "Communities served",
        "Communities an organisation serves; they overlap.",
        [
            "Black and minority ethnic communities",
            "Disabled people",
            "Young people",
            "Older people",
            "Women",
            "Lesbian, gay, bisexual and trans communities",
            "Faith communities",
            "Refugees and migrants",
            "People isolated by language",
        ],
    ),
    (
        "wards",
        "Wards",
        "The borough's wards (neighbourhoods).",
        [
            "Bethnal Green East",
            "Bethnal Green West",
            "Blackwall and Cubitt Town",
            "Bow East",
            "Bow West",
            "Bromley North",
            "Bromley South",
            "Canary Wharf",
            "Island Gardens",
            "Lansbury",
            "Limehouse",
            "Mile End",
            "Poplar",
            "St Dunstan's",
            "St Katharine's and Wapping",
            "Shadwell",
            "Spitalfields and Banglatown",
            "Stepney Green",
            "Weavers",
            "Whitechapel",
        ],
    ),
    (
        "languages",
        "Languages",
        "Languages spoken; the code is the ISO 639 code.",
        [
            ("en", "English"),
            ("bn", "Bengali"),
            ("syl", "Sylheti"),
            ("so", "Somali"),
            ("ur", "Urdu"),
            ("ar", "Arabic"),
            ("tr", "Turkish"),
            ("pl", "Polish"),
            ("zh", "Chinese"),
            ("es", "Spanish"),
            ("pt", "Portuguese"),
            ("ro", "Romanian"),
            ("fr", "French"),
            ("bsl", "British Sign Language"),
        ],
    ),
]


def seed_taxonomies(Taxonomy, TaxonomyTerm) -> None:
    """Create any missing taxonomy or term; never overwrite an admin's edits. Safe to run again."""
    for code, name, description, terms in TAXONOMIES:
        taxonomy, _ = Taxonomy.objects.get_or_create(code=code, defaults={"name": name, "description": description})
        for order, term in enumerate(terms):
            if isinstance(term, tuple) and isinstance(term[1], list):
                parent_name, children = term
                parent, _ = TaxonomyTerm.objects.get_or_create(
                    taxonomy=taxonomy, code=slugify(parent_name), defaults={"name": parent_name, "order": order * 100}
                )
                for child_order, child in enumerate(children, start=1):
                    TaxonomyTerm.objects.get_or_create(
                        taxonomy=taxonomy,
                        code=slugify(child),
                        defaults={"name": child, "parent": parent, "order": order * 100 + child_order},
                    )
            else:
                term_code, term_name = term if isinstance(term, tuple) else (slugify(term), term)
                TaxonomyTerm.objects.get_or_create(
                    taxonomy=taxonomy, code=term_code, defaults={"name": term_name, "order": order}
                )
