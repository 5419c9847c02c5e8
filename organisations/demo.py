"""Demo data for a laptop: a borough that looks like Tower Hamlets.

`build_demo_borough()` composes the borough from word lists with a seeded random generator and touches
no database, so the same seed and day always give the same borough. `load_demo_data()` writes whatever is
missing, keyed on natural keys (organisation and network slugs, usernames, network plus organisation for a
membership), and leaves everything that exists alone: loading twice changes nothing.

Names, people, numbers and addresses are invented. Emails use example.org and phone numbers the Ofcom
range kept for drama (020 7946 0xxx). The demo passwords are published in the README, so the management
command refuses to run with DEBUG off unless forced.
"""

import hashlib
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from taxonomies.models import Taxonomy, TaxonomyTerm
from taxonomies.vocabulary import TAXONOMIES

from .models import Affiliation, Membership, Network, Organisation

SEED = 20240501
VCO_COUNT = 500
CHANGE_REASON = "Demo data"
M2M_FIELDS = {
    # field on Organisation: taxonomy its terms come from
    "kinds": Taxonomy.ORGANISATION_KINDS,
    "communities_served": Taxonomy.COMMUNITIES,
    "segments": Taxonomy.SEGMENTS,
    "functions": Taxonomy.FUNCTIONS,
    "languages": Taxonomy.LANGUAGES,
}

# Vocabulary codes, as seeded by taxonomies/vocabulary.py.
BME = "black-and-minority-ethnic-communities"
DISABLED = "disabled-people"
YOUNG = "young-people"
OLDER = "older-people"
WOMEN = "women"
LGBT = "lesbian-gay-bisexual-and-trans-communities"
FAITH = "faith-communities"
REFUGEES = "refugees-and-migrants"
ISOLATED_BY_LANGUAGE = "people-isolated-by-language"

SEG_BME = "bme-vcos"
SEG_SOCIAL_ENTERPRISE = "community-and-social-enterprises"
SEG_PREMISES = "vcos-developing-or-managing-premises"
SEG_WORKFORCE = "workforce-development-of-vco-staff-and-management"
SEG_VOLUNTEERS = "vcos-managing-volunteers"
SEG_EARLY_YEARS = "vcos-working-with-early-years"
SEG_YOUNG = "vcos-working-with-young-people"
SEG_OLDER = "vcos-working-with-older-people"

MAIN_NETWORK = "tower-hamlets-infrastructure-network"
BME_NETWORK = "tower-hamlets-bme-network"
BME_NETWORK_2 = "east-london-bme-voluntary-organisations-network"
OLDER_FORUM = "older-peoples-forum"
YOUNG_FORUM = "young-peoples-forum"

DEMO_VCO = "bow-bangladeshi-womens-group"
DEMO_PROVIDER = "tower-hamlets-voluntary-action"

# The portal opened this many days before the demo's day. Its founding members (the providers, and
# some of the groups) were put on record in its first two months; the other groups joined steadily
# since, the last a fortnight ago. So the evidence dashboards have something to count in past periods.
PORTAL_AGE_DAYS = 1000
FOUNDING_DAYS = 60
FOUNDING_SHARE = 0.3


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    email: str
    first_name: str
    last_name: str
    role: str
    description: str
    is_staff: bool = False
    is_superuser: bool = False
    organisation_slug: str = ""
    affiliation_role: str = ""


DEMO_ACCOUNTS = [
    DemoAccount(
        username="vco.editor",
        password="thin-demo-vco",
        email="vco.editor@example.org",
        first_name="Shahana",
        last_name="Begum",
        role=User.Role.VCO_STAFF,
        organisation_slug=DEMO_VCO,
        affiliation_role=Affiliation.Role.EDITOR,
        description=_("VCO staff: editor of Bow Bangladeshi Women's Group; keeps its record and page up to date."),
    ),
    DemoAccount(
        username="officer",
        password="thin-demo-officer",
        email="officer@example.org",
        first_name="David",
        last_name="Okafor",
        role=User.Role.OFFICER,
        organisation_slug=DEMO_PROVIDER,
        affiliation_role=Affiliation.Role.OFFICER,
        description=_(
            "Infrastructure officer at Tower Hamlets Voluntary Action; keeps the provider's record up to date."
        ),
    ),
    DemoAccount(
        username="admin",
        password="thin-demo-admin",
        email="admin@example.org",
        first_name="Ruth",
        last_name="Campbell",
        role=User.Role.NETWORK_ADMIN,
        is_staff=True,
        is_superuser=True,
        description=_("Network admin (staff and superuser): everything, mostly in the Django admin."),
    ),
    DemoAccount(
        username="funder",
        password="thin-demo-funder",
        email="funder@example.org",
        first_name="Imran",
        last_name="Hussain",
        role=User.Role.FUNDER,
        description=_("Funder or commissioner: read-only evidence; no organisation of its own."),
    ),
]


@dataclass
class OrganisationSpec:
    fields: dict
    terms: dict[str, list[str]]
    # When its record was created (written after the insert, which stamps the moment of loading).
    joined_at: datetime | None = None

    @property
    def slug(self) -> str:
        return self.fields["slug"]


@dataclass(frozen=True)
class NetworkSpec:
    slug: str
    name: str
    description: str
    run_by: str
    renewal_period_months: int = 12


@dataclass(frozen=True)
class MembershipSpec:
    network: str
    organisation: str
    status: str
    applied_on: date
    application_note: str = ""
    joined_on: date | None = None
    renewal_due: date | None = None
    left_on: date | None = None


@dataclass
class DemoBorough:
    organisations: list[OrganisationSpec]
    networks: list[NetworkSpec]
    memberships: list[MembershipSpec]
    accounts: list[DemoAccount]


@dataclass
class DemoLoadReport:
    created: dict[str, int] = field(default_factory=dict)
    existing: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def count(self, what: str, *, created: int, existing: int) -> None:
        self.created[what] = self.created.get(what, 0) + created
        self.existing[what] = self.existing.get(what, 0) + existing


# --- The borough -----------------------------------------------------------------------------------

# ward code: (place names used in organisation names, postcode districts, streets)
WARDS = {
    "bethnal-green-east": (
        ["Bethnal Green", "Globe Town", "Cranbrook"],
        ["E2"],
        ["Roman Road", "Globe Road", "Morpeth Street", "Sewardstone Road"],
    ),
    "bethnal-green-west": (
        ["Bethnal Green", "Boundary", "Vallance"],
        ["E2"],
        ["Bethnal Green Road", "Vallance Road", "Cheshire Street", "Pollard Row"],
    ),
    "blackwall-and-cubitt-town": (
        ["Cubitt Town", "Blackwall", "Isle of Dogs"],
        ["E14"],
        ["Manchester Road", "Prestons Road", "Saunders Ness Road", "Glengall Grove"],
    ),
    "bow-east": (
        ["Bow", "Old Ford", "Fish Island"],
        ["E3"],
        ["Wick Lane", "Old Ford Road", "Armagh Road", "Monier Road"],
    ),
    "bow-west": (
        ["Bow", "Roman Road", "Tredegar"],
        ["E3"],
        ["Roman Road", "Tredegar Square", "Bow Road", "Coborn Road"],
    ),
    "bromley-north": (
        ["Bromley-by-Bow", "Devons Road", "Bow Common"],
        ["E3"],
        ["Devons Road", "Campbell Road", "Bruce Road", "Powis Road"],
    ),
    "bromley-south": (
        ["Bromley-by-Bow", "St Paul's Way", "Burdett"],
        ["E3", "E14"],
        ["St Paul's Way", "Burdett Road", "Bow Common Lane", "Knapp Road"],
    ),
    "canary-wharf": (
        ["Canary Wharf", "Millwall", "Isle of Dogs"],
        ["E14"],
        ["Westferry Road", "Marsh Wall", "Millharbour", "Tiller Road"],
    ),
    "island-gardens": (
        ["Island Gardens", "Millwall", "Isle of Dogs", "Mudchute"],
        ["E14"],
        ["East Ferry Road", "Manchester Road", "Ferry Street", "Spindrift Avenue"],
    ),
    "lansbury": (
        ["Lansbury", "Chrisp Street", "Poplar"],
        ["E14"],
        ["Chrisp Street", "East India Dock Road", "Cordelia Street", "Ida Street"],
    ),
    "limehouse": (
        ["Limehouse", "Ropemakers"],
        ["E14"],
        ["Narrow Street", "Commercial Road", "Three Colt Street", "Salmon Lane"],
    ),
    "mile-end": (
        ["Mile End", "Ocean Estate", "Harford"],
        ["E1", "E3"],
        ["Mile End Road", "Ben Jonson Road", "Harford Street", "Grove Road"],
    ),
    "poplar": (
        ["Poplar", "All Saints", "Aberfeldy"],
        ["E14"],
        ["Poplar High Street", "Upper North Street", "Abbott Road", "Woolmore Street"],
    ),
    "st-dunstans": (
        ["Stepney", "St Dunstan's", "Ocean"],
        ["E1"],
        ["Stepney High Street", "White Horse Road", "Stepney Way", "Belgrave Street"],
    ),
    "st-katharines-and-wapping": (
        ["Wapping", "St Katharine's", "Tower Hill"],
        ["E1W"],
        ["Wapping High Street", "Wapping Lane", "Prusom Street", "Garnet Street"],
    ),
    "shadwell": (
        ["Shadwell", "Watney Market", "Cable Street"],
        ["E1"],
        ["Watney Street", "Cable Street", "Sutton Street", "Cannon Street Road"],
    ),
    "spitalfields-and-banglatown": (
        ["Spitalfields", "Brick Lane", "Banglatown"],
        ["E1"],
        ["Brick Lane", "Hanbury Street", "Wentworth Street", "Princelet Street"],
    ),
    "stepney-green": (
        ["Stepney Green", "Stepney", "Jamaica Street"],
        ["E1"],
        ["Stepney Green", "Jubilee Street", "Redman's Road", "Assembly Passage"],
    ),
    "weavers": (
        ["Weavers", "Columbia Road", "Shoreditch"],
        ["E2"],
        ["Columbia Road", "Hackney Road", "Gosset Street", "Barnet Grove"],
    ),
    "whitechapel": (
        ["Whitechapel", "Aldgate", "Altab Ali Park"],
        ["E1"],
        ["Whitechapel Road", "New Road", "Fieldgate Street", "Commercial Street"],
    ),
}

# (park, the ward it is in)
PARKS = [
    ("Victoria Park", "bow-east"),
    ("Mile End Park", "mile-end"),
    ("Meath Gardens", "bethnal-green-east"),
    ("Weavers Fields", "weavers"),
    ("Allen Gardens", "spitalfields-and-banglatown"),
    ("Stepney Green Park", "stepney-green"),
    ("Bartlett Park", "lansbury"),
    ("Millwall Park", "island-gardens"),
    ("Island Gardens", "island-gardens"),
    ("King Edward Memorial Park", "shadwell"),
    ("Altab Ali Park", "whitechapel"),
    ("Ropemakers Fields", "limehouse"),
    ("Poplar Recreation Ground", "poplar"),
    ("Langdon Park", "lansbury"),
    ("Tower Hamlets Cemetery Park", "bromley-north"),
    ("St George's Gardens", "st-katharines-and-wapping"),
    ("Sir John McDougall Gardens", "canary-wharf"),
    ("Ackroyd Drive Greenlink", "bromley-south"),
    ("Wapping Woods", "st-katharines-and-wapping"),
    ("Stebon Primary Garden", "st-dunstans"),
    ("Bethnal Green Gardens", "bethnal-green-west"),
    ("Meridian Gardens", "blackwall-and-cubitt-town"),
    ("Grove Hall Park", "bow-west"),
]

# (heritage, language codes, a language named in text, counts as BME, weight)
HERITAGES = [
    ("Bangladeshi", ["bn", "syl"], "Bengali", True, 10),
    ("Somali", ["so"], "Somali", True, 4),
    ("Turkish", ["tr"], "Turkish", True, 1),
    ("Kurdish", ["tr"], "Kurdish", True, 1),
    ("Polish", ["pl"], "Polish", False, 1),
    ("Chinese", ["zh"], "Chinese", True, 1),
    ("Vietnamese", [], "Vietnamese", True, 1),
    ("Eritrean", ["ar"], "Tigrinya", True, 1),
    ("Sudanese", ["ar"], "Arabic", True, 1),
    ("Nigerian", [], "Yoruba", True, 1),
    ("Caribbean", [], "", True, 1),
    ("Latin American", ["es", "pt"], "Spanish", True, 1),
    ("Romanian", ["ro"], "Romanian", False, 1),
    ("Pakistani", ["ur"], "Urdu", True, 1),
    ("Moroccan", ["ar", "fr"], "Arabic", True, 1),
    ("Congolese", ["fr"], "French", True, 1),
]

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# First names and surnames that go together, so contacts read like real people; keyed by heritage, with
# "" for the borough's mix.
PEOPLE = {
    "Bangladeshi": (
        ["Shahana", "Rahima", "Abdul", "Nasima", "Dilwar", "Rokeya", "Sultana", "Jamal", "Foysol", "Rumana"],
        ["Begum", "Ahmed", "Rahman", "Uddin", "Miah", "Islam", "Chowdhury", "Ali", "Hussain", "Khan"],
    ),
    "Somali": (
        ["Hodan", "Ayaan", "Amina", "Abdirahman", "Faduma", "Mustafe"],
        ["Osman", "Warsame", "Hassan", "Mohamed", "Farah"],
    ),
    "Turkish": (["Emre", "Aylin", "Mustafa", "Zeynep"], ["Yilmaz", "Demir", "Kaya", "Aydin"]),
    "Kurdish": (["Rojda", "Baran", "Dilan"], ["Aslan", "Dogan", "Kurt"]),
    "Polish": (["Agnieszka", "Piotr", "Katarzyna", "Tomasz"], ["Kowalski", "Nowak", "Wisniewska", "Zielinski"]),
    "Chinese": (["Wei", "Mei", "Jun", "Lan"], ["Chen", "Wong", "Li", "Zhang"]),
    "Vietnamese": (["Linh", "Thu", "Minh"], ["Nguyen", "Tran", "Pham"]),
    "Eritrean": (["Senait", "Yonas", "Helen"], ["Tesfay", "Gebremedhin", "Berhe"]),
    "Sudanese": (["Fatima", "Osman", "Hiba"], ["Abdalla", "Elhassan", "Idris"]),
    "Nigerian": (["Chidi", "Ngozi", "Tunde", "Funmi"], ["Okafor", "Adeyemi", "Okonkwo", "Balogun"]),
    "Caribbean": (["Marcia", "Delroy", "Beverley", "Winston"], ["Campbell", "Brown", "Williams", "Clarke"]),
    "Latin American": (["Maria", "Carlos", "Lucia", "Andres"], ["Silva", "Gomez", "Rodriguez", "Castro"]),
    "Romanian": (["Ioana", "Mihai", "Elena"], ["Popescu", "Ionescu", "Dumitru"]),
    "Pakistani": (["Imran", "Saima", "Asif"], ["Qureshi", "Malik", "Butt"]),
    "Moroccan": (["Youssef", "Naima", "Karim"], ["El Amrani", "Bennani", "Tazi"]),
    "Congolese": (["Grace", "Patrice", "Esther"], ["Mbala", "Kabongo", "Lukusa"]),
    "": (
        [
            "Sarah",
            "John",
            "Patricia",
            "Kathleen",
            "Siobhan",
            "Tom",
            "Priya",
            "Kevin",
            "Ruth",
            "Leila",
            "Hasan",
            "Yasmin",
        ],
        [
            "Smith",
            "Jones",
            "O'Brien",
            "Murphy",
            "Patel",
            "Taylor",
            "Green",
            "Wilson",
            "Begum",
            "Ahmed",
            "Ali",
            "Okafor",
        ],
    ),
}
# Letters a postcode's inward code may end with.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
ACCESSIBILITY = [
    "Step-free entrance, accessible toilet and a hearing loop in the main hall.",
    "Ground-floor hall with level access; the accessible toilet is next to the kitchen.",
    "We meet on the first floor; there is a lift, but it is small. Call us and we will meet you downstairs.",
    "Level access from the street, wide doors and an accessible toilet. Assistance dogs welcome.",
    "The building has steps at the front; a ramp at the side entrance is open during sessions.",
]
APPLICATION_NOTES = [
    "We would like to be part of the network to hear about training and funding.",
    "Our members asked us to join so that we can have a say in local consultations.",
    "We are a new group and want support to grow.",
    "We work with many of your members already and want to join formally.",
    "We want to take part in the forum's meetings and share what we learn.",
]


@dataclass(frozen=True)
class VcoTemplate:
    key: str
    pattern: str
    activities: str
    offers: tuple[str, ...]
    communities: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    stages: tuple[int, int, int] = (60, 33, 7)
    weight: int = 2
    heritage: bool = False
    borough_wide: bool = False
    options: tuple[str, ...] = ()  # filled in for {option}
    languages: tuple[str, ...] = ()


VCO_TEMPLATES = [
    VcoTemplate(
        "womens-group",
        "{place} {heritage} Women's Group",
        "A weekly drop-in for {heritage} women in {place}: English conversation, sewing, health talks and day trips.",
        (
            "English conversation classes",
            "Sewing and craft sessions",
            "Health talks with local GPs and nurses",
            "Help with forms, letters and benefits",
            "Summer day trips for families",
            "Exercise classes for women only",
        ),
        communities=(WOMEN,),
        stages=(70, 27, 3),
        weight=6,
        heritage=True,
    ),
    VcoTemplate(
        "elders",
        "{place} {heritage} Elders Association",
        "Lunch, company and advice for older {heritage} people in {place}, with home visits for members who cannot get out.",
        (
            "A hot lunch every {day}",
            "Home visits and telephone befriending",
            "Help with pensions and benefits",
            "Gentle exercise and chair yoga",
            "Outings and festival celebrations",
        ),
        communities=(OLDER,),
        segments=(SEG_OLDER,),
        stages=(60, 35, 5),
        weight=5,
        heritage=True,
    ),
    VcoTemplate(
        "community-association",
        "{place} {heritage} Community Association",
        "Brings {heritage} families in {place} together through advice sessions, cultural events and classes for all ages.",
        (
            "Advice surgeries on housing and benefits",
            "Cultural events and festivals",
            "Classes for children and adults",
            "A welcome for newly arrived families",
        ),
        stages=(45, 45, 10),
        weight=5,
        heritage=True,
    ),
    VcoTemplate(
        "youth-sport",
        "{place} Youth {option} Club",
        "Free {option_lower} coaching for young people aged 8 to 18 in {place}, run by qualified volunteer coaches.",
        (
            "Weekly training for under-12s, under-16s and under-18s",
            "Girls-only sessions",
            "Coaching qualifications for older teenagers",
            "Match days in the local league",
            "Holiday camps",
        ),
        communities=(YOUNG,),
        segments=(SEG_YOUNG,),
        stages=(65, 32, 3),
        weight=5,
        options=("Football", "Cricket", "Boxing", "Basketball", "Badminton", "Table Tennis", "Netball"),
    ),
    VcoTemplate(
        "residents",
        "{place} Tenants' and Residents' Association",
        "Represents tenants and residents of {place} with the housing association and the council, and runs estate clean-ups and summer fun days.",
        (
            "Monthly residents' meetings",
            "Estate walkabouts with the housing officer",
            "Summer fun day",
            "Community clean-ups",
        ),
        stages=(90, 10, 0),
        weight=4,
    ),
    VcoTemplate(
        "friends-of-park",
        "Friends of {park}",
        "Volunteers who look after {park}: planting, litter picks, bat walks and a summer festival.",
        (
            "Monthly volunteer gardening mornings",
            "Litter picks",
            "Nature walks for families",
            "A summer festival in the park",
        ),
        segments=(SEG_VOLUNTEERS,),
        stages=(85, 15, 0),
        weight=3,
    ),
    VcoTemplate(
        "food",
        "{place} {option}",
        "Emergency food parcels and a weekly community larder for families in {place}, with advice on debt and benefits on site.",
        (
            "Food parcels on referral",
            "A weekly community larder",
            "Debt and benefits advice",
            "Cooking on a budget sessions",
        ),
        segments=(SEG_VOLUNTEERS,),
        stages=(40, 55, 5),
        weight=3,
        options=("Food Bank", "Community Larder", "Community Kitchen"),
    ),
    VcoTemplate(
        "lunch-club",
        "{place} Pensioners' Lunch Club",
        "A freshly cooked lunch and good company for people over 60 in {place}, with transport for those who need it.",
        (
            "Lunch every {day}",
            "Transport to and from the club",
            "Bingo, quizzes and music",
            "Information stalls from local services",
        ),
        communities=(OLDER,),
        segments=(SEG_OLDER,),
        stages=(70, 30, 0),
        weight=3,
    ),
    VcoTemplate(
        "toddlers",
        "{place} Parent and Toddler Group",
        "Play sessions for children under five and their parents and carers in {place}, with songs, stories and healthy snacks.",
        ("Stay-and-play sessions", "Songs and stories", "Healthy snacks", "Advice from health visitors"),
        communities=(WOMEN,),
        segments=(SEG_EARLY_YEARS,),
        stages=(80, 20, 0),
        weight=3,
    ),
    VcoTemplate(
        "carers",
        "{place} Carers' Support Group",
        "Peer support, respite breaks and advice for unpaid carers in {place}.",
        (
            "A monthly carers' café",
            "Respite breaks and pamper days",
            "Advice on carers' assessments",
            "A telephone support line",
        ),
        communities=(DISABLED,),
        stages=(60, 35, 5),
        weight=2,
    ),
    VcoTemplate(
        "arts",
        "{place} {option}",
        "Creative sessions for everyone in {place}, whatever their experience, with a show or exhibition every year.",
        (
            "Weekly sessions for adults",
            "Holiday workshops for children",
            "An annual show or exhibition",
            "Free taster sessions",
        ),
        stages=(70, 28, 2),
        weight=4,
        options=(
            "Arts Collective",
            "Community Choir",
            "Community Theatre",
            "Photography Club",
            "Film Club",
            "Steel Band",
        ),
    ),
    VcoTemplate(
        "supplementary-school",
        "{place} {heritage} Supplementary School",
        "Saturday classes in maths, English and {language} for children of {heritage} heritage in {place}.",
        ("Saturday morning classes", "Homework help", "Mother-tongue lessons", "Exam preparation for GCSE"),
        communities=(YOUNG,),
        segments=(SEG_YOUNG,),
        stages=(60, 38, 2),
        weight=3,
        heritage=True,
    ),
    VcoTemplate(
        "mental-health",
        "{place} Mental Health Peer Support",
        "People with lived experience of mental ill health supporting each other in {place}, in a safe, friendly space.",
        ("Weekly peer support groups", "Wellbeing walks", "Art for wellbeing", "Signposting to NHS services"),
        communities=(DISABLED,),
        stages=(65, 33, 2),
        weight=2,
    ),
    VcoTemplate(
        "disability",
        "{place} {option}",
        "A social and support group for disabled people in {place}, run by its members.",
        (
            "Weekly social evenings",
            "Trips and outings",
            "Advice on benefits and adaptations",
            "Campaigning for accessible services",
        ),
        communities=(DISABLED,),
        stages=(60, 38, 2),
        weight=2,
        options=("Deaf Club", "Disability Forum", "Learning Disability Social Club", "Visually Impaired Social Club"),
    ),
    VcoTemplate(
        "refugee",
        "Tower Hamlets {heritage} Refugee Action",
        "Advice on asylum, housing and work for {heritage} refugees and migrants across Tower Hamlets, with English classes and a weekly social.",
        ("Immigration and asylum advice", "English classes", "Help finding work", "A weekly social for new arrivals"),
        communities=(REFUGEES, ISOLATED_BY_LANGUAGE),
        stages=(40, 50, 10),
        weight=2,
        heritage=True,
        borough_wide=True,
    ),
    VcoTemplate(
        "garden",
        "{place} {option}",
        "Growing food and flowers together in {place}, with plots for local families and sessions for schools.",
        ("Shared growing beds", "Sessions for local schools", "Seed swaps", "A harvest festival"),
        segments=(SEG_VOLUNTEERS,),
        stages=(85, 15, 0),
        weight=2,
        options=("Community Garden", "Growing Club", "Allotment Society"),
    ),
    VcoTemplate(
        "lgbt",
        "{place} {option}",
        "A friendly social and support group for lesbian, gay, bisexual and trans people in and around {place}.",
        ("Monthly socials", "Peer support", "Walks and outings", "Pride events"),
        communities=(LGBT,),
        stages=(80, 20, 0),
        weight=1,
        options=("LGBTQ+ Social Group", "Rainbow Youth Group", "LGBTQ+ Walking Club"),
    ),
    VcoTemplate(
        "faith",
        "{place} {option}",
        "Community work rooted in faith in {place}: a food store, advice sessions and activities open to people of every faith and none.",
        ("A weekly food store", "Advice sessions", "Youth activities", "Visits to isolated older people"),
        communities=(FAITH,),
        stages=(50, 40, 10),
        weight=3,
        options=("Mosque Welfare Trust", "Church Community Project", "Interfaith Forum", "Mosque Youth Project"),
    ),
    VcoTemplate(
        "homework",
        "{place} Homework Club",
        "Quiet space, computers and volunteer tutors for children doing their homework after school in {place}.",
        ("After-school homework help", "Computers and printing", "Reading support", "Exam revision sessions"),
        communities=(YOUNG,),
        segments=(SEG_YOUNG,),
        stages=(75, 25, 0),
        weight=2,
    ),
    VcoTemplate(
        "young-carers",
        "{place} Young Carers Project",
        "Breaks, support and a voice for young people in {place} who look after someone at home.",
        ("Weekly young carers' club", "Holiday trips", "Support in school", "One-to-one support"),
        communities=(YOUNG, DISABLED),
        segments=(SEG_YOUNG,),
        stages=(40, 55, 5),
        weight=1,
    ),
    VcoTemplate(
        "social-enterprise",
        "{place} {option}",
        "A community business in {place} that trains local people and puts its profits back into the neighbourhood.",
        (
            "Training placements for local people",
            "Affordable services for residents",
            "Volunteering opportunities",
            "Space for community events",
        ),
        segments=(SEG_SOCIAL_ENTERPRISE,),
        stages=(30, 65, 5),
        weight=3,
        options=("Community Café", "Repair Café", "Bike Workshop", "Sewing Co-operative", "Community Launderette"),
    ),
    VcoTemplate(
        "community-centre",
        "{place} Community Centre",
        "A community centre in {place} with rooms to hire, a nursery, youth clubs and advice sessions under one roof.",
        ("Rooms to hire for local groups", "A community nursery", "Youth clubs", "Advice sessions", "A community café"),
        segments=(SEG_PREMISES,),
        stages=(10, 55, 35),
        weight=2,
    ),
    VcoTemplate(
        "befriending",
        "{place} Befriending Scheme",
        "Volunteers visit and phone older people in {place} who live alone, and go with them to appointments.",
        ("Weekly home visits", "Telephone befriending", "Help getting to appointments", "Volunteer training"),
        communities=(OLDER,),
        segments=(SEG_VOLUNTEERS, SEG_OLDER),
        stages=(50, 45, 5),
        weight=2,
    ),
    VcoTemplate(
        "womens-health",
        "Tower Hamlets {heritage} Women's Health Project",
        "Health information and support for {heritage} women across Tower Hamlets, in English and {language}.",
        ("Health talks", "Support to use GP and hospital services", "Exercise classes", "Peer health champions"),
        communities=(WOMEN,),
        stages=(40, 55, 5),
        weight=1,
        heritage=True,
        borough_wide=True,
    ),
    VcoTemplate(
        "english",
        "{place} English Conversation Club",
        "Friendly English conversation practice for adults in {place} who are learning English, with volunteers from the neighbourhood.",
        (
            "Conversation practice",
            "Help with everyday English",
            "Trips to museums and libraries",
            "A crèche during sessions",
        ),
        communities=(ISOLATED_BY_LANGUAGE, REFUGEES),
        stages=(80, 20, 0),
        weight=2,
    ),
    VcoTemplate(
        "advice",
        "{place} {option}",
        "Free, confidential advice for residents of {place} on money, debt, housing and benefits.",
        ("Drop-in advice sessions", "Casework and appeals", "Help with energy bills", "Outreach at GP surgeries"),
        stages=(20, 60, 20),
        weight=2,
        options=("Advice Centre", "Money Advice Project", "Law Centre"),
    ),
    VcoTemplate(
        "trust",
        "{place} Community Trust",
        "A community anchor organisation for {place}: it owns and runs local buildings and delivers services for the council and the NHS.",
        (
            "Community buildings and workspace",
            "Employment and skills support",
            "Health and wellbeing programmes",
            "Youth services",
        ),
        segments=(SEG_PREMISES, SEG_SOCIAL_ENTERPRISE),
        stages=(5, 40, 55),
        weight=1,
    ),
]

# Anchors: named in the brief and the README, and the demo VCO editor's organisation.
VCO_ANCHORS = [
    ("womens-group", "bow-west", "Bow", "Bangladeshi", ""),
    ("youth-sport", "island-gardens", "Island Gardens", "", "Football"),
    ("elders", "poplar", "Poplar", "Somali", ""),
]


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    kinds: list[str]
    functions: list[str]
    ward: str
    level: str
    stage: int
    income_band: str
    paid_staff: int
    volunteers: int
    legal_form: str
    founded: int
    activities: str
    segments: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)


PROVIDERS = [
    # General primary infrastructure
    ProviderSpec(
        name="Tower Hamlets Voluntary Action",
        kinds=["general"],
        functions=[
            "information-and-advice",
            "training",
            "service-co-ordination",
            "cross-sector-working",
            "consultation",
            "lobbying",
            "policy",
            "sector-development",
        ],
        ward="whitechapel",
        level="local",
        stage=3,
        income_band="1m_5m",
        paid_staff=28,
        volunteers=40,
        legal_form="charitable_company",
        founded=1979,
        activities="The borough's council for voluntary service: advice, training and a voice for local voluntary and community groups. It hosts the Tower Hamlets Infrastructure Network.",
    ),
    ProviderSpec(
        name="Tower Hamlets Volunteer Centre",
        kinds=["general", "specialist"],
        functions=["brokerage-of-services", "training", "information-and-advice"],
        segments=[SEG_VOLUNTEERS],
        ward="bethnal-green-west",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=9,
        volunteers=30,
        legal_form="charitable_company",
        founded=1990,
        activities="Matches volunteers with local groups, and helps organisations recruit, train and keep their volunteers.",
    ),
    ProviderSpec(
        name="Isle of Dogs Community Development Trust",
        kinds=["general"],
        functions=["information-and-advice", "incubation-facilities", "consultancy", "service-co-ordination"],
        ward="island-gardens",
        level="neighbourhood",
        stage=2,
        income_band="250k_1m",
        paid_staff=8,
        volunteers=20,
        legal_form="charitable_company",
        founded=1994,
        activities="Supports community groups on the Isle of Dogs with advice, shared office space and help to bid for funding.",
    ),
    ProviderSpec(
        name="Bethnal Green Community Resource Centre",
        kinds=["general"],
        functions=["incubation-facilities", "information-and-advice", "training"],
        ward="bethnal-green-east",
        level="neighbourhood",
        stage=2,
        income_band="100k_250k",
        paid_staff=4,
        volunteers=12,
        legal_form="cio",
        founded=2003,
        activities="Desks, meeting rooms, printing and advice for small groups in Bethnal Green.",
    ),
    ProviderSpec(
        name="Poplar Community Development Agency",
        kinds=["general"],
        functions=["information-and-advice", "training", "consultancy"],
        ward="poplar",
        level="neighbourhood",
        stage=2,
        income_band="250k_1m",
        paid_staff=7,
        volunteers=15,
        legal_form="charitable_company",
        founded=1998,
        activities="Helps new and growing groups in Poplar and Lansbury to set up, find money and run well.",
    ),
    ProviderSpec(
        name="Bow and Bromley Community Action",
        kinds=["general"],
        functions=["information-and-advice", "training", "co-ordination-of-common-interest-groups"],
        ward="bow-west",
        level="neighbourhood",
        stage=2,
        income_band="100k_250k",
        paid_staff=5,
        volunteers=25,
        legal_form="cio",
        founded=2008,
        activities="Advice, training and regular networking meetings for groups in Bow and Bromley-by-Bow.",
    ),
    ProviderSpec(
        name="Spitalfields and Whitechapel Community Hub",
        kinds=["general"],
        functions=["information-and-advice", "incubation-facilities", "service-co-ordination"],
        ward="spitalfields-and-banglatown",
        level="neighbourhood",
        stage=2,
        income_band="250k_1m",
        paid_staff=10,
        volunteers=18,
        legal_form="charitable_company",
        founded=1996,
        activities="A shared home for community groups around Brick Lane and Whitechapel, with advice and training on site.",
    ),
    ProviderSpec(
        name="Stepney Neighbourhood Support Centre",
        kinds=["general"],
        functions=["information-and-advice", "training"],
        ward="stepney-green",
        level="neighbourhood",
        stage=2,
        income_band="100k_250k",
        paid_staff=3,
        volunteers=10,
        legal_form="cio",
        founded=2011,
        activities="Practical help for small groups in Stepney: constitutions, bank accounts, policies and first grants.",
    ),
    ProviderSpec(
        name="Limehouse and Shadwell Development Trust",
        kinds=["general", "specialist"],
        functions=["incubation-facilities", "consultancy", "information-and-advice"],
        segments=[SEG_PREMISES],
        ward="limehouse",
        level="neighbourhood",
        stage=3,
        income_band="1m_5m",
        paid_staff=22,
        volunteers=15,
        legal_form="charitable_company",
        founded=1988,
        activities="Owns and manages community buildings in Limehouse and Shadwell, and helps other groups to take on and run premises.",
    ),
    ProviderSpec(
        name="Tower Hamlets Community Grants Fund",
        kinds=["general"],
        functions=["fund-distribution", "information-and-advice"],
        ward="mile-end",
        level="local",
        stage=3,
        income_band="1m_5m",
        paid_staff=12,
        volunteers=8,
        legal_form="charitable_company",
        founded=2001,
        activities="Distributes small grants to community groups across the borough, and runs funding advice surgeries.",
    ),
    ProviderSpec(
        name="Wapping Community Support Centre",
        kinds=["general"],
        functions=["information-and-advice", "incubation-facilities"],
        ward="st-katharines-and-wapping",
        level="neighbourhood",
        stage=1,
        income_band="10k_100k",
        paid_staff=1,
        volunteers=12,
        legal_form="charity",
        founded=2015,
        activities="A volunteer-run help desk and meeting space for community groups in Wapping and St Katharine's.",
    ),
    # Specialist primary infrastructure
    ProviderSpec(
        name="East London Community Accountancy Service",
        kinds=["specialist"],
        functions=["consultancy", "training"],
        ward="mile-end",
        level="sub_regional",
        stage=2,
        income_band="250k_1m",
        paid_staff=8,
        volunteers=4,
        legal_form="charitable_company",
        founded=1986,
        activities="Independent examinations, bookkeeping, payroll and finance training for community organisations.",
    ),
    ProviderSpec(
        name="Tower Hamlets Social Enterprise Partnership",
        kinds=["specialist"],
        functions=["consultancy", "training", "incubation-facilities"],
        segments=[SEG_SOCIAL_ENTERPRISE],
        ward="canary-wharf",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=6,
        volunteers=10,
        legal_form="cic",
        founded=2009,
        activities="Business support, trading advice and start-up space for community and social enterprises.",
    ),
    ProviderSpec(
        name="Docklands Community Premises Trust",
        kinds=["specialist"],
        functions=["consultancy", "incubation-facilities"],
        segments=[SEG_PREMISES],
        ward="blackwall-and-cubitt-town",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=5,
        volunteers=6,
        legal_form="charitable_company",
        founded=1999,
        activities="Advice for groups developing, leasing or managing community buildings, from first lease to asset transfer.",
    ),
    ProviderSpec(
        name="Tower Hamlets Workforce Development Partnership",
        kinds=["specialist"],
        functions=["training", "standards-and-best-practice"],
        segments=[SEG_WORKFORCE],
        ward="mile-end",
        level="local",
        stage=2,
        income_band="100k_250k",
        paid_staff=4,
        volunteers=6,
        legal_form="cio",
        founded=2012,
        activities="Training and mentoring for managers, staff and trustees of local voluntary organisations.",
    ),
    ProviderSpec(
        name="Tower Hamlets Early Years Support",
        kinds=["specialist"],
        functions=["training", "information-and-advice", "standards-and-best-practice"],
        segments=[SEG_EARLY_YEARS],
        communities=[YOUNG],
        ward="lansbury",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=7,
        volunteers=12,
        legal_form="charitable_company",
        founded=2005,
        activities="Support for playgroups, nurseries and parent and toddler groups: registration, safeguarding and quality.",
    ),
    ProviderSpec(
        name="Tower Hamlets Youth Work Partnership",
        kinds=["specialist"],
        functions=["training", "service-co-ordination", "co-ordination-of-common-interest-groups"],
        segments=[SEG_YOUNG],
        communities=[YOUNG],
        ward="bow-east",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=9,
        volunteers=30,
        legal_form="charitable_company",
        founded=2002,
        activities="Brings youth organisations together, trains youth workers and runs the Young People's Forum.",
    ),
    ProviderSpec(
        name="Ageing Well Tower Hamlets",
        kinds=["specialist"],
        functions=["information-and-advice", "co-ordination-of-common-interest-groups", "consultation"],
        segments=[SEG_OLDER],
        communities=[OLDER],
        languages=["bn", "syl"],
        ward="bromley-south",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=8,
        volunteers=60,
        legal_form="charitable_company",
        founded=1993,
        activities="Support for groups working with older people, and host of the Older People's Forum.",
    ),
    ProviderSpec(
        name="Disability Action Tower Hamlets",
        kinds=["specialist"],
        functions=["information-and-advice", "lobbying", "consultancy"],
        communities=[DISABLED],
        languages=["bsl"],
        ward="shadwell",
        level="local",
        stage=2,
        income_band="100k_250k",
        paid_staff=5,
        volunteers=20,
        legal_form="cio",
        founded=2000,
        activities="Helps community groups make their services accessible, and speaks up for disabled people's organisations.",
    ),
    ProviderSpec(
        name="Community IT Tower Hamlets",
        kinds=["specialist"],
        functions=["training", "consultancy"],
        ward="weavers",
        level="local",
        stage=1,
        income_band="10k_100k",
        paid_staff=2,
        volunteers=8,
        legal_form="cic",
        founded=2016,
        activities="Affordable IT support, recycled laptops and digital skills training for small charities.",
    ),
    ProviderSpec(
        name="East London Charity Law and HR Service",
        kinds=["specialist"],
        functions=["consultancy", "information-and-advice"],
        segments=[SEG_WORKFORCE],
        ward="whitechapel",
        level="sub_regional",
        stage=2,
        income_band="100k_250k",
        paid_staff=4,
        volunteers=10,
        legal_form="charitable_company",
        founded=2006,
        activities="Free and low-cost legal, employment and HR advice for voluntary organisations.",
    ),
    ProviderSpec(
        name="Tower Hamlets Quality Standards Partnership",
        kinds=["specialist"],
        functions=["standards-and-best-practice", "training", "consultancy"],
        ward="st-dunstans",
        level="local",
        stage=1,
        income_band="10k_100k",
        paid_staff=1,
        volunteers=5,
        legal_form="cio",
        founded=2018,
        activities="Helps groups meet quality standards through health checks, peer review and toolkits.",
    ),
    ProviderSpec(
        name="Tower Hamlets Community Research Partnership",
        kinds=["specialist"],
        functions=["research", "policy"],
        ward="mile-end",
        level="local",
        stage=2,
        income_band="100k_250k",
        paid_staff=3,
        volunteers=6,
        legal_form="cio",
        founded=2014,
        activities="Research on the borough's voluntary sector and its contribution, for members, decision makers and funders.",
    ),
    ProviderSpec(
        name="Tower Hamlets Consortium for Public Services",
        kinds=["specialist"],
        functions=["cross-sector-working", "brokerage-of-services"],
        ward="canary-wharf",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=3,
        volunteers=0,
        legal_form="charitable_company",
        founded=2013,
        activities="Helps groups bid together for public service contracts and manages consortium agreements.",
    ),
    # BME providers
    ProviderSpec(
        name="Tower Hamlets Bangladeshi Development Trust",
        kinds=["general", "specialist"],
        functions=["information-and-advice", "training", "consultancy", "incubation-facilities"],
        segments=[SEG_BME],
        communities=[BME, ISOLATED_BY_LANGUAGE],
        languages=["en", "bn", "syl"],
        ward="spitalfields-and-banglatown",
        level="local",
        stage=3,
        income_band="1m_5m",
        paid_staff=25,
        volunteers=45,
        legal_form="charitable_company",
        founded=1982,
        activities="Capacity building for Bangladeshi-led community groups: advice, training and workspace, in English, Bengali and Sylheti.",
    ),
    ProviderSpec(
        name="East London Somali Development Agency",
        kinds=["specialist"],
        functions=["information-and-advice", "training", "consultancy"],
        segments=[SEG_BME],
        communities=[BME, REFUGEES],
        languages=["en", "so", "ar"],
        ward="shadwell",
        level="sub_regional",
        stage=2,
        income_band="100k_250k",
        paid_staff=4,
        volunteers=20,
        legal_form="charity",
        founded=1997,
        activities="Helps Somali community organisations to set up, find funding and work with public services.",
    ),
    ProviderSpec(
        name="Tower Hamlets BME Capacity Building Project",
        kinds=["specialist"],
        functions=["training", "consultancy", "sector-development"],
        segments=[SEG_BME],
        communities=[BME],
        languages=["en", "bn", "ur", "tr"],
        ward="whitechapel",
        level="local",
        stage=2,
        income_band="250k_1m",
        paid_staff=6,
        volunteers=12,
        legal_form="charitable_company",
        founded=2004,
        activities="Training, mentoring and health checks for black and minority ethnic voluntary organisations.",
    ),
    ProviderSpec(
        name="East London Refugee and Migrant Action",
        kinds=["specialist"],
        functions=["information-and-advice", "training", "lobbying"],
        segments=[SEG_BME],
        communities=[BME, REFUGEES, ISOLATED_BY_LANGUAGE],
        languages=["en", "ar", "so", "fr", "ro", "pt"],
        ward="poplar",
        level="sub_regional",
        stage=2,
        income_band="250k_1m",
        paid_staff=9,
        volunteers=35,
        legal_form="charitable_company",
        founded=1995,
        activities="Support for refugee and migrant community organisations, from first steps to running services.",
    ),
    # BME networks
    ProviderSpec(
        name="Tower Hamlets BME Network",
        kinds=["network"],
        functions=["co-ordination-of-common-interest-groups", "consultation", "lobbying", "policy"],
        segments=[SEG_BME],
        communities=[BME],
        languages=["en", "bn"],
        ward="whitechapel",
        level="local",
        stage=2,
        income_band="100k_250k",
        paid_staff=2,
        volunteers=15,
        legal_form="cio",
        founded=2007,
        activities="The network of black and minority ethnic voluntary organisations in the borough: a shared voice and a place to meet.",
    ),
    ProviderSpec(
        name="East London BME Voluntary Organisations Network",
        kinds=["network"],
        functions=["co-ordination-of-common-interest-groups", "consultation", "research"],
        segments=[SEG_BME],
        communities=[BME],
        languages=["en"],
        ward="stepney-green",
        level="sub_regional",
        stage=1,
        income_band="10k_100k",
        paid_staff=1,
        volunteers=10,
        legal_form="unincorporated",
        founded=2010,
        activities="Links BME voluntary organisations across east London to share learning and speak up on policy.",
    ),
    # Other networks
    ProviderSpec(
        name="Tower Hamlets Faith Network",
        kinds=["network"],
        functions=["co-ordination-of-common-interest-groups", "cross-sector-working"],
        communities=[FAITH],
        ward="bethnal-green-west",
        level="local",
        stage=1,
        income_band="10k_100k",
        paid_staff=1,
        volunteers=12,
        legal_form="cio",
        founded=2005,
        activities="Brings faith-based community projects together to work with each other and with public services.",
    ),
    ProviderSpec(
        name="Tower Hamlets Health and Wellbeing Network",
        kinds=["network"],
        functions=["co-ordination-of-common-interest-groups", "consultation"],
        ward="mile-end",
        level="local",
        stage=1,
        income_band="10k_100k",
        paid_staff=1,
        volunteers=8,
        legal_form="unincorporated",
        founded=2016,
        activities="A network of groups working on health and wellbeing, linking them with the NHS and public health.",
    ),
    # Secondary and tertiary infrastructure
    ProviderSpec(
        name="East London Infrastructure Consortium",
        kinds=["secondary"],
        functions=["sector-development", "research", "policy"],
        ward="canary-wharf",
        level="sub_regional",
        stage=2,
        income_band="100k_250k",
        paid_staff=3,
        volunteers=0,
        legal_form="charitable_company",
        founded=2011,
        activities="Support for infrastructure organisations across the east London boroughs.",
    ),
    ProviderSpec(
        name="London Voluntary Sector Partnership",
        kinds=["secondary"],
        functions=["policy", "lobbying", "research"],
        ward="whitechapel",
        level="regional",
        stage=3,
        income_band="1m_5m",
        paid_staff=20,
        volunteers=5,
        legal_form="charitable_company",
        founded=1978,
        activities="Policy, research and representation for the voluntary sector across London.",
    ),
    ProviderSpec(
        name="National Association for Community Infrastructure",
        kinds=["secondary"],
        functions=["standards-and-best-practice", "policy", "research"],
        ward="whitechapel",
        level="national",
        stage=3,
        income_band="1m_5m",
        paid_staff=35,
        volunteers=10,
        legal_form="charitable_company",
        founded=1972,
        activities="The national body for local infrastructure organisations: quality standards, policy and peer learning.",
    ),
]

# Where a provider's work reaches, by geographic level; a neighbourhood provider names its own place.
AREA_OF_BENEFIT = {"local": "Tower Hamlets", "sub_regional": "East London", "regional": "London", "national": "England"}

NETWORKS = [
    NetworkSpec(
        MAIN_NETWORK,
        "Tower Hamlets Infrastructure Network",
        "The borough's infrastructure network: providers and the groups they support, sharing one portal.",
        DEMO_PROVIDER,
    ),
    NetworkSpec(
        BME_NETWORK,
        "Tower Hamlets BME Network",
        "Black and minority ethnic voluntary and community organisations in Tower Hamlets.",
        "tower-hamlets-bme-network",
    ),
    NetworkSpec(
        BME_NETWORK_2,
        "East London BME Voluntary Organisations Network",
        "BME voluntary organisations across east London.",
        "east-london-bme-voluntary-organisations-network",
    ),
    NetworkSpec(
        OLDER_FORUM,
        "Older People's Forum",
        "Groups working with and for older people, meeting every two months.",
        "ageing-well-tower-hamlets",
    ),
    NetworkSpec(
        YOUNG_FORUM,
        "Young People's Forum",
        "Groups working with children and young people.",
        "tower-hamlets-youth-work-partnership",
    ),
]


def _term_names() -> dict[tuple[str, str], str]:
    names = {}
    for taxonomy, _name, _description, terms in TAXONOMIES:
        for term in terms:
            if isinstance(term, tuple) and isinstance(term[1], list):
                for child in term[1]:
                    names[(taxonomy, slugify(child))] = child
            elif isinstance(term, tuple):
                names[(taxonomy, term[0])] = term[1]
            else:
                names[(taxonomy, slugify(term))] = term
    return names


class _Numbers:
    """Unique, well-formed charity and company numbers, and UUIDs, all from the seeded generator."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.charities: set[str] = set()
        self.companies: set[str] = set()
        self.others: set[str] = set()

    def _unique(self, seen: set[str], make) -> str:
        while (value := make()) in seen:
            pass
        seen.add(value)
        return value

    def charity(self) -> str:
        return self._unique(self.charities, lambda: str(self.rng.randint(1000000, 1209999)))

    def company(self, *, cic: bool) -> str:
        low, high = (10000000, 15999999) if cic else (2000000, 9999999)
        return self._unique(self.companies, lambda: f"{self.rng.randint(low, high):08d}")

    def scottish(self, rng: random.Random) -> str:
        return self._unique(self.others, lambda: f"SC0{rng.randint(10000, 52999)}")

    def ni(self, rng: random.Random) -> str:
        return self._unique(self.others, lambda: str(rng.randint(100001, 106999)))

    def mutuals(self, rng: random.Random) -> str:
        # Registered societies: IP and 5 or 6 digits before 2014, RS and 6 digits since.
        return self._unique(
            self.others, lambda: rng.choice([f"IP{rng.randint(10000, 31999):06d}", f"RS{rng.randint(7000, 9999):06d}"])
        )

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def _person(rng: random.Random, heritage: str = "") -> str:
    first_names, last_names = PEOPLE[heritage if heritage and rng.random() < 0.85 else ""]
    return f"{rng.choice(first_names)} {rng.choice(last_names)}"


def _postcode(rng: random.Random, ward: str) -> str:
    district = rng.choice(WARDS[ward][1])
    return f"{district} {rng.randint(0, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def _email_domain(slug: str) -> str:
    return f"{slug[:55].strip('-')}.example.org"


def _weighted(rng: random.Random, options: list, weights: list):
    return rng.choices(options, weights=weights, k=1)[0]


def _income_band(rng: random.Random, stage: int) -> str:
    return {
        1: lambda: _weighted(rng, ["under_10k", "10k_100k"], [85, 15]),
        2: lambda: _weighted(rng, ["10k_100k", "100k_250k", "250k_1m"], [55, 30, 15]),
        3: lambda: _weighted(rng, ["250k_1m", "1m_5m", "over_5m"], [45, 50, 5]),
    }[stage]()


def _legal_form(rng: random.Random, stage: int, template_key: str) -> str:
    if template_key == "social-enterprise":
        return _weighted(rng, ["cic", "unincorporated", "charitable_company"], [70, 15, 15])
    weights = {1: [75, 15, 10, 0, 0], 2: [5, 35, 30, 20, 10], 3: [0, 10, 20, 60, 10]}[stage]
    return _weighted(rng, ["unincorporated", "charity", "cio", "charitable_company", "cic"], weights)


def _numbers_for(legal_form: str, numbers: _Numbers, slug: str) -> dict[str, str]:
    """The organisation's register numbers (org-ids), by field; a registered society's legal form too.
    The rarer ones (a charity also registered in
    Scotland or Northern Ireland, a registered society on the Mutuals Public Register) come from a
    generator seeded by the slug, so adding them left every other demo value as it was."""
    charity = numbers.charity() if legal_form in ("charity", "cio", "charitable_company") else ""
    company = ""
    if legal_form == "charitable_company":
        company = numbers.company(cic=False)
    elif legal_form == "cic":
        company = numbers.company(cic=True)
    rare = random.Random(f"org-id:{slug}")
    roll = rare.random()
    scottish = numbers.scottish(rare) if charity and roll < 0.05 else ""
    ni = numbers.ni(rare) if charity and 0.05 <= roll < 0.07 else ""
    numbers_by_field = {}
    mutuals = ""
    if legal_form == "unincorporated" and roll > 0.96:
        # A community benefit society or co-operative: on the Mutuals Public Register.
        numbers_by_field["legal_form"] = "other"
        mutuals = numbers.mutuals(rare)
    return numbers_by_field | {
        "charity_number": charity,
        "scottish_charity_number": scottish,
        "ni_charity_number": ni,
        "company_number": company,
        "mutuals_number": mutuals,
    }


def _details_confirmed_on(rng: random.Random, today: date) -> date | None:
    """Most records confirmed within the year, about a quarter stale, a few never confirmed."""
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.70:
        return today - timedelta(days=rng.randint(0, 330))
    if roll < 0.78:
        return today - timedelta(days=rng.randint(331, 365))  # due for confirmation soon
    return today - timedelta(days=rng.randint(366, 1100))


def _public_fields(rng: random.Random) -> list[str]:
    optional = [name for name, _label in Organisation.OPTIONAL_PUBLIC_FIELDS]
    roll = rng.random()
    if roll < 0.1:
        return []
    if roll < 0.2:
        return optional
    extras = [name for name in optional if name not in Organisation.DEFAULT_PUBLIC_FIELDS and rng.random() < 0.3]
    return [name for name in optional if name in Organisation.DEFAULT_PUBLIC_FIELDS or name in extras]


def _about(name: str, activities: str, offers: list[str], email: str, year: int, volunteers_wanted: bool) -> str:
    lines = [
        "## Who we are",
        "",
        f"{name} started in {year}. {activities}",
        "",
        "## What we offer",
        "",
        *[f"- {offer}" for offer in offers],
        "",
        "## Get involved",
        "",
    ]
    invitation = "We always welcome new **volunteers**" if volunteers_wanted else "New members are always **welcome**"
    contact = f" Email us at <{email}>." if email else " Come along to one of our sessions."
    lines.append(f"{invitation}.{contact}")
    return "\n".join(lines)


def _vco(
    rng: random.Random,
    today: date,
    numbers: _Numbers,
    template: VcoTemplate,
    ward: str,
    place: str,
    heritage: tuple | None,
    option: str,
    park: str,
) -> OrganisationSpec:
    heritage_name, heritage_languages, heritage_language, is_bme = heritage[:4] if heritage else ("", [], "", False)
    words = {
        "place": place,
        "heritage": heritage_name,
        "option": option,
        "option_lower": option.lower(),
        "park": park,
        "day": rng.choice(DAYS),
        "language": heritage_language or "their home language",
    }
    name = " ".join(template.pattern.format(**words).split())
    slug = slugify(name)
    stage = _weighted(rng, [1, 2, 3], list(template.stages))
    legal_form = _legal_form(rng, stage, template.key)
    register_numbers = _numbers_for(legal_form, numbers, slug)
    paid_staff = {
        1: lambda: _weighted(rng, [0, 1, 2], [80, 15, 5]),
        2: lambda: round(rng.triangular(1, 15, 2)),
        3: lambda: round(rng.triangular(10, 90, 20)),
    }[stage]()
    volunteers = {1: (3, 30), 2: (5, 80), 3: (10, 250)}[stage]
    founded = today.year - rng.randint(*{1: (0, 15), 2: (3, 40), 3: (10, 90)}[stage])
    street = rng.choice(WARDS[ward][2])
    domain = _email_domain(slug)
    email = f"{rng.choice(['info', 'hello', 'contact', 'admin'])}@{domain}" if rng.random() < 0.9 else ""

    communities = list(template.communities)
    segments = list(template.segments)
    languages = ["en"] if rng.random() < 0.95 or not heritage_languages else []
    if heritage:
        languages += [code for code in heritage_languages if code not in languages]
        communities.append(BME if is_bme else REFUGEES)
        if is_bme:
            segments.append(SEG_BME)
        if heritage_languages and rng.random() < 0.3 and ISOLATED_BY_LANGUAGE not in communities:
            communities.append(ISOLATED_BY_LANGUAGE)
    if option == "Deaf Club":
        languages.append("bsl")
    if FAITH not in communities and rng.random() < 0.08:
        communities.append(FAITH)
    if stage == 3 and SEG_WORKFORCE not in segments and rng.random() < 0.3:
        segments.append(SEG_WORKFORCE)

    activities = template.activities.format(**words)
    offers = [offer.format(**words) for offer in rng.sample(template.offers, k=min(3, len(template.offers)))]
    if rng.random() < 0.6:
        activities += f" We meet every {words['day']} at {place if template.borough_wide else street}."
    borough_wide = template.borough_wide or rng.random() < 0.25
    fields = {
        "uuid": numbers.uuid(),
        "name": name,
        "slug": slug,
        "legal_form": legal_form,
        **register_numbers,
        "contact_name": _person(rng, heritage_name),
        "email": email,
        "phone": f"020 7946 0{rng.randint(0, 999):03d}" if rng.random() < 0.8 else "",
        "address_line_1": f"{rng.randint(1, 240)} {street}",
        "address_line_2": f"{place} Community Centre" if rng.random() < 0.2 else "",
        "town": "London",
        "postcode": _postcode(rng, ward),
        "ward": ward,
        "geographic_level": Organisation.GeographicLevel.LOCAL
        if borough_wide
        else Organisation.GeographicLevel.NEIGHBOURHOOD,
        "area_of_benefit": "Tower Hamlets" if borough_wide else f"{place} and the surrounding area",
        "activities": activities,
        "about": _about(
            name,
            activities,
            offers,
            email,
            founded,
            bool(segments and SEG_VOLUNTEERS in segments) or rng.random() < 0.5,
        )
        if rng.random() < 0.35
        else "",
        "development_stage": stage,
        "income_band": _income_band(rng, stage),
        "paid_staff": paid_staff,
        "volunteers": rng.randint(*volunteers),
        "premises_accessibility": rng.choice(ACCESSIBILITY) if rng.random() < 0.4 else "",
        "website": f"https://{domain}/" if rng.random() < 0.4 else "",
        "year_founded": founded,
        "public_fields": _public_fields(rng),
        "details_confirmed_on": _details_confirmed_on(rng, today),
        "is_active": rng.random() >= 0.02,
    }
    return OrganisationSpec(
        fields=fields,
        terms={
            "kinds": [Organisation.KIND_VCO],
            "communities_served": communities,
            "segments": segments,
            "functions": [],
            "languages": languages,
        },
    )


def _vcos(rng: random.Random, today: date, numbers: _Numbers, taken_slugs: set[str]) -> list[OrganisationSpec]:
    templates = {template.key: template for template in VCO_TEMPLATES}
    heritages = {heritage[0]: heritage for heritage in HERITAGES}
    ward_codes = list(WARDS)
    specs, slugs = [], set(taken_slugs)

    def add(template: VcoTemplate, ward: str, place: str, heritage: tuple | None, option: str, park: str) -> None:
        spec = _vco(rng, today, numbers, template, ward, place, heritage, option, park)
        if spec.slug in slugs:
            return
        slugs.add(spec.slug)
        specs.append(spec)

    for key, ward, place, heritage, option in VCO_ANCHORS:
        add(templates[key], ward, place, heritages.get(heritage), option, "")

    weights = [template.weight for template in VCO_TEMPLATES]
    heritage_weights = [heritage[4] for heritage in HERITAGES]
    while len(specs) < VCO_COUNT:
        template = _weighted(rng, VCO_TEMPLATES, weights)
        # Round-robin the wards so every one has its share, and pick a place name inside it.
        ward = ward_codes[len(specs) % len(ward_codes)]
        park = ""
        if template.key == "friends-of-park":
            park, ward = rng.choice(PARKS)
        place = rng.choice(WARDS[ward][0])
        heritage = _weighted(rng, HERITAGES, heritage_weights) if template.heritage else None
        option = rng.choice(template.options) if template.options else ""
        add(template, ward, place, heritage, option, park)
    return specs


def _providers(rng: random.Random, today: date, numbers: _Numbers) -> list[OrganisationSpec]:
    names = _term_names()
    specs = []
    for provider in PROVIDERS:
        slug = slugify(provider.name)
        register_numbers = _numbers_for(provider.legal_form, numbers, slug)
        domain = _email_domain(slug)
        email = f"info@{domain}"
        phone = f"020 7946 0{rng.randint(0, 999):03d}"
        street = rng.choice(WARDS[provider.ward][2])
        address = f"{rng.randint(1, 240)} {street}"
        offers = [names[(Taxonomy.FUNCTIONS, code)] for code in provider.functions]
        about = "\n".join(
            [
                "## What we do",
                "",
                provider.activities,
                "",
                "## How we can help",
                "",
                *[f"- {offer}" for offer in offers],
                "",
                "## Contact us",
                "",
                f"Call us on {phone} or email <{email}>. Our office at {address} is open Monday to Friday, 9.30am to 5pm.",
            ]
        )
        fields = {
            "uuid": numbers.uuid(),
            "name": provider.name,
            "slug": slug,
            "legal_form": provider.legal_form,
            **register_numbers,
            "contact_name": _person(rng),
            "email": email,
            "phone": phone,
            "address_line_1": address,
            "address_line_2": "",
            "town": "London",
            "postcode": _postcode(rng, provider.ward),
            "ward": provider.ward,
            "geographic_level": provider.level,
            "area_of_benefit": AREA_OF_BENEFIT.get(provider.level, WARDS[provider.ward][0][0]),
            "activities": provider.activities,
            "about": about,
            "development_stage": provider.stage,
            "income_band": provider.income_band,
            "paid_staff": provider.paid_staff,
            "volunteers": provider.volunteers,
            "premises_accessibility": rng.choice(ACCESSIBILITY),
            "website": f"https://{domain}/",
            "year_founded": provider.founded,
            "public_fields": ["contact_name", "email", "phone", "address", "premises_accessibility"],
            # Providers keep their records fresher than most; a few are still stale.
            "details_confirmed_on": today
            - timedelta(days=rng.randint(366, 600) if rng.random() < 0.15 else rng.randint(0, 300)),
            "is_active": True,
        }
        specs.append(
            OrganisationSpec(
                fields=fields,
                terms={
                    "kinds": provider.kinds,
                    "communities_served": provider.communities,
                    "segments": provider.segments,
                    "functions": provider.functions,
                    "languages": provider.languages or ["en"],
                },
            )
        )
    return specs


def _membership(
    rng: random.Random, today: date, network: str, organisation: str, status: str, renewal_within: int | None = None
) -> MembershipSpec:
    if status == Membership.Status.APPLIED:
        return MembershipSpec(
            network,
            organisation,
            status,
            applied_on=today - timedelta(days=rng.randint(0, 45)),
            application_note=rng.choice(APPLICATION_NOTES),
        )
    if status == Membership.Status.ACTIVE:
        days = (
            renewal_within
            if renewal_within is not None
            else (rng.randint(1, 30) if rng.random() < 0.15 else rng.randint(31, 365))
        )
        renewal_due = today + timedelta(days=days)
        joined_on = renewal_due - relativedelta(months=12 * rng.randint(1, 6))
    elif status == Membership.Status.LAPSED:
        renewal_due = today - timedelta(days=rng.randint(1, 400))
        joined_on = renewal_due - relativedelta(months=12 * rng.randint(1, 4))
    else:  # left
        joined_on = today - timedelta(days=rng.randint(500, 2500))
        left_on = joined_on + timedelta(days=rng.randint(200, (today - joined_on).days - 1))
        return MembershipSpec(
            network,
            organisation,
            status,
            applied_on=joined_on - timedelta(days=rng.randint(7, 40)),
            joined_on=joined_on,
            left_on=left_on,
        )
    return MembershipSpec(
        network,
        organisation,
        status,
        applied_on=joined_on - timedelta(days=rng.randint(7, 40)),
        joined_on=joined_on,
        renewal_due=renewal_due,
    )


def _memberships(
    rng: random.Random, today: date, vcos: list[OrganisationSpec], providers: list[OrganisationSpec]
) -> list[MembershipSpec]:
    S = Membership.Status
    planned: dict[tuple[str, str], MembershipSpec] = {}

    def plan(network: str, organisation: str, status: str, renewal_within: int | None = None) -> None:
        planned.setdefault(
            (network, organisation), _membership(rng, today, network, organisation, status, renewal_within)
        )

    # The demo VCO's renewal falls due within a fortnight, and it has asked to join the BME network.
    plan(MAIN_NETWORK, DEMO_VCO, S.ACTIVE, renewal_within=12)
    plan(BME_NETWORK, DEMO_VCO, S.APPLIED)
    # A visible example of each state in the main network.
    plan(MAIN_NETWORK, "island-gardens-youth-football-club", S.LAPSED)
    plan(MAIN_NETWORK, "poplar-somali-elders-association", S.LEFT)

    provider_overrides = {
        "national-association-for-community-infrastructure": S.APPLIED,
        "tower-hamlets-community-research-partnership": S.LAPSED,
        "tower-hamlets-consortium-for-public-services": S.LEFT,
    }
    for spec in providers:
        plan(MAIN_NETWORK, spec.slug, provider_overrides.get(spec.slug, S.ACTIVE))
        if SEG_BME in spec.terms["segments"] and Organisation.KIND_NETWORK not in spec.terms["kinds"]:
            plan(BME_NETWORK, spec.slug, S.ACTIVE)
            plan(BME_NETWORK_2, spec.slug, S.ACTIVE)

    statuses, weights = [S.ACTIVE, S.APPLIED, S.LAPSED, S.LEFT], [68, 8, 14, 10]
    for spec in vcos:
        terms = spec.terms
        if rng.random() < 0.45:
            plan(MAIN_NETWORK, spec.slug, _weighted(rng, statuses, weights))
        if SEG_BME in terms["segments"] and rng.random() < 0.5:
            plan(_weighted(rng, [BME_NETWORK, BME_NETWORK_2], [3, 1]), spec.slug, _weighted(rng, statuses, weights))
        if OLDER in terms["communities_served"] and rng.random() < 0.6:
            plan(OLDER_FORUM, spec.slug, _weighted(rng, statuses, weights))
        if YOUNG in terms["communities_served"] and rng.random() < 0.6:
            plan(YOUNG_FORUM, spec.slug, _weighted(rng, statuses, weights))
    return list(planned.values())


def _roll(*parts) -> float:
    """A number in [0, 1) fixed by its parts: the same on every machine, and drawn apart from the
    borough's random generator, so it changes none of the other demo details."""
    digest = hashlib.sha256(":".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def joined_at(slug: str, *, today: date, founding: bool = False) -> datetime:
    """When a demo organisation's record was created: a founding member in the portal's first two
    months, any other on a day spread over the years since (a share of them founding members too),
    in office hours."""
    opened = today - timedelta(days=PORTAL_AGE_DAYS)
    roll = _roll("joined", slug)
    if founding or roll < FOUNDING_SHARE:
        days = int((roll if founding else roll / FOUNDING_SHARE) * FOUNDING_DAYS)
    else:
        days = FOUNDING_DAYS + int((roll - FOUNDING_SHARE) / (1 - FOUNDING_SHARE) * (PORTAL_AGE_DAYS - FOUNDING_DAYS - 14))
    moment = time(9 + int(_roll("hour", slug) * 8), int(_roll("minute", slug) * 60))
    return timezone.make_aware(datetime.combine(opened + timedelta(days=days), moment))


def build_demo_borough(*, today: date, seed: int = SEED) -> DemoBorough:
    """The whole demo borough as plain data. Same seed and day, same borough."""
    rng = random.Random(seed)
    numbers = _Numbers(rng)
    providers = _providers(rng, today, numbers)
    vcos = _vcos(rng, today, numbers, {spec.slug for spec in providers})
    for spec in providers + vcos:
        spec.joined_at = joined_at(spec.slug, today=today, founding=spec in providers or spec.slug == DEMO_VCO)
    return DemoBorough(
        organisations=vcos + providers,
        networks=list(NETWORKS),
        memberships=_memberships(rng, today, vcos, providers),
        accounts=list(DEMO_ACCOUNTS),
    )


# --- Loading -----------------------------------------------------------------------------------------


def _term_ids(borough: DemoBorough) -> dict[tuple[str, str], int]:
    wanted = {
        (M2M_FIELDS[name], code)
        for spec in borough.organisations
        for name, codes in spec.terms.items()
        for code in codes
    }
    wanted |= {(Taxonomy.WARDS, spec.fields["ward"]) for spec in borough.organisations}
    ids = {
        (taxonomy, code): pk
        for pk, taxonomy, code in TaxonomyTerm.objects.filter(
            taxonomy__code__in={taxonomy for taxonomy, _code in wanted}
        ).values_list("pk", "taxonomy__code", "code")
    }
    missing = sorted(f"{taxonomy}/{code}" for taxonomy, code in wanted - set(ids))
    if missing:
        raise LookupError(f"The vocabulary lacks {', '.join(missing)}: run `manage.py migrate` first.")
    return ids


def _load_accounts(accounts: list[DemoAccount], report: DemoLoadReport) -> None:
    existing = set(User.objects.filter(username__in=[a.username for a in accounts]).values_list("username", flat=True))
    taken_emails = set(User.objects.filter(email__in=[a.email for a in accounts]).values_list("email", flat=True))
    created = 0
    for account in accounts:
        if account.username in existing:
            continue
        if account.email in taken_emails:
            report.notes.append(f"Skipped demo user {account.username}: another user has {account.email}.")
            continue
        User.objects.create_user(
            username=account.username,
            email=account.email,
            password=account.password,
            first_name=account.first_name,
            last_name=account.last_name,
            role=account.role,
            is_staff=account.is_staff,
            is_superuser=account.is_superuser,
        )
        created += 1
    report.count("users", created=created, existing=len(existing))


def _load_organisations(specs: list[OrganisationSpec], term_ids: dict, report: DemoLoadReport) -> None:
    slugs = [spec.slug for spec in specs]
    existing = set(Organisation.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    # A demo record whose slug an admin has since changed is still recognised by its UUID.
    uuids = {spec.fields["uuid"]: spec.slug for spec in specs}
    existing |= {uuids[pk] for pk in Organisation.objects.filter(uuid__in=uuids).values_list("uuid", flat=True)}
    taken = {
        field_name: set(Organisation.objects.exclude(**{field_name: ""}).values_list(field_name, flat=True))
        for field_name in Organisation.IDENTIFIER_FIELDS.values()
    }

    new, new_specs = [], []
    for spec in specs:
        if spec.slug in existing:
            continue
        values = dict(spec.fields)
        values["ward_id"] = term_ids[(Taxonomy.WARDS, values.pop("ward"))]
        # Someone else's real record with the same number wins; the demo record goes without.
        for field_name, numbers in taken.items():
            if values[field_name] in numbers:
                values[field_name] = ""
        organisation = Organisation(**values)
        # The same validators as every form and import (postcode, numbers, lengths); the ward is known good.
        organisation.clean_fields(exclude=["ward", "logo"])
        new.append(organisation)
        new_specs.append(spec)

    if new:
        created = bulk_create_with_history(new, Organisation, batch_size=250, default_change_reason=CHANGE_REASON)
        by_slug = {organisation.slug: organisation.pk for organisation in created}
        if None in by_slug.values():
            by_slug = dict(Organisation.objects.filter(slug__in=[o.slug for o in new]).values_list("slug", "pk"))
        _add_terms(new_specs, by_slug, term_ids)
    _date_records(specs)
    report.count("organisations", created=len(new), existing=len(existing))


def _date_records(specs: list[OrganisationSpec]) -> None:
    """Move each demo organisation's record, and its first history entry, back to the day it joined.

    Only ever back: a record already dated (this load, or an earlier one) is left alone, so loading
    twice changes nothing, and a borough loaded before records were dated gets its dates on the next load.
    """
    planned = {spec.fields["uuid"]: spec.joined_at for spec in specs if spec.joined_at is not None}
    late = []
    for organisation in Organisation.objects.filter(uuid__in=planned).only("pk", "uuid", "created_at"):
        if organisation.created_at > planned[organisation.uuid]:
            organisation.created_at = planned[organisation.uuid]
            late.append(organisation)
    # bulk_update writes the value given (a save would stamp created_at again on an insert only, but
    # would also stamp updated_at and write a history entry for a change nobody made).
    Organisation.objects.bulk_update(late, ["created_at"], batch_size=500)
    when = {organisation.pk: organisation.created_at for organisation in late}
    first_entries = list(Organisation.history.filter(id__in=when, history_type="+").only("history_id", "id", "history_date"))
    for entry in first_entries:
        entry.history_date = when[entry.id]
    Organisation.history.model.objects.bulk_update(first_entries, ["history_date"], batch_size=500)


def _add_terms(specs: list[OrganisationSpec], organisation_ids: dict[str, int], term_ids: dict) -> None:
    """Link new organisations to their terms, and give their first history entry the same links.

    bulk_create does not fire the signals simple_history listens to, so the many-to-many snapshot of
    each first history record is written here; the record then shows the organisation as it was created.
    """
    history_model = Organisation.history.model
    history_ids = dict(
        history_model.objects.filter(id__in=organisation_ids.values(), history_type="+").values_list("id", "history_id")
    )
    for name, taxonomy in M2M_FIELDS.items():
        through = getattr(Organisation, name).through
        rows = [
            through(organisation_id=organisation_ids[spec.slug], taxonomyterm_id=term_ids[(taxonomy, code)])
            for spec in specs
            for code in dict.fromkeys(spec.terms[name])
        ]
        rows = through.objects.bulk_create(rows, batch_size=1000)
        if rows and rows[0].pk is None:
            rows = list(through.objects.filter(organisation_id__in=organisation_ids.values()))
        snapshot_model = getattr(history_model, name).model
        snapshot_model.objects.bulk_create(
            [
                snapshot_model(
                    id=row.pk,
                    organisation_id=row.organisation_id,
                    taxonomyterm_id=row.taxonomyterm_id,
                    history_id=history_ids[row.organisation_id],
                )
                for row in rows
                if row.organisation_id in history_ids
            ],
            batch_size=1000,
        )


def _load_networks(specs: list[NetworkSpec], report: DemoLoadReport) -> None:
    existing = Network.objects.filter(slug__in=[s.slug for s in specs]) | Network.objects.filter(
        name__in=[s.name for s in specs]
    )
    existing_keys = set(existing.values_list("slug", flat=True)) | set(existing.values_list("name", flat=True))
    run_by = dict(Organisation.objects.filter(slug__in=[s.run_by for s in specs]).values_list("slug", "pk"))
    new = [
        Network(
            slug=spec.slug,
            name=spec.name,
            description=spec.description,
            run_by_id=run_by.get(spec.run_by),
            renewal_period_months=spec.renewal_period_months,
        )
        for spec in specs
        if spec.slug not in existing_keys and spec.name not in existing_keys
    ]
    Network.objects.bulk_create(new)
    report.count("networks", created=len(new), existing=len(specs) - len(new))


def _load_memberships(specs: list[MembershipSpec], report: DemoLoadReport) -> None:
    networks = dict(Network.objects.filter(slug__in={s.network for s in specs}).values_list("slug", "pk"))
    organisations = dict(
        Organisation.objects.filter(slug__in={s.organisation for s in specs}).values_list("slug", "pk")
    )
    existing = set(
        Membership.objects.filter(network_id__in=networks.values()).values_list("network__slug", "organisation__slug")
    )
    approver = User.objects.filter(username="admin", is_superuser=True).first()
    new = []
    for spec in specs:
        if (
            (spec.network, spec.organisation) in existing
            or spec.network not in networks
            or spec.organisation not in organisations
        ):
            continue
        new.append(
            Membership(
                network_id=networks[spec.network],
                organisation_id=organisations[spec.organisation],
                status=spec.status,
                applied_on=spec.applied_on,
                application_note=spec.application_note,
                joined_on=spec.joined_on,
                renewal_due=spec.renewal_due,
                left_on=spec.left_on,
                approved_by=approver if spec.joined_on else None,
            )
        )
    if new:
        bulk_create_with_history(new, Membership, batch_size=500, default_change_reason=CHANGE_REASON)
    report.count("memberships", created=len(new), existing=len(existing & {(s.network, s.organisation) for s in specs}))


def _load_affiliations(accounts: list[DemoAccount], report: DemoLoadReport) -> None:
    created = existing = 0
    for account in accounts:
        if not account.organisation_slug:
            continue
        user = User.objects.filter(username=account.username).first()
        organisation = Organisation.objects.filter(slug=account.organisation_slug).first()
        if user is None or organisation is None:
            continue
        if Affiliation.objects.filter(user=user, organisation=organisation).exists():
            existing += 1
            continue
        Affiliation.objects.create(user=user, organisation=organisation, role=account.affiliation_role)
        created += 1
    report.count("affiliations", created=created, existing=existing)


@transaction.atomic
def load_demo_borough(*, today: date | None = None, seed: int = SEED) -> DemoLoadReport:
    """Write the demo borough's missing parts (accounts, organisations, networks, memberships,
    affiliations); anything already there (by natural key) is left as it is. The directory's demo
    (directory.demo.load_demo_data) adds the providers' services on top."""
    borough = build_demo_borough(today=today or timezone.localdate(), seed=seed)
    term_ids = _term_ids(borough)
    report = DemoLoadReport()
    _load_accounts(borough.accounts, report)
    _load_organisations(borough.organisations, term_ids, report)
    _load_networks(borough.networks, report)
    _load_memberships(borough.memberships, report)
    _load_affiliations(borough.accounts, report)
    return report


def demo_providers() -> list[Organisation]:
    """The demo borough's infrastructure providers, as loaded."""
    return list(Organisation.objects.filter(slug__in=[slugify(provider.name) for provider in PROVIDERS]).select_related("ward"))
