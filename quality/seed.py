"""The first version of the network's quality standard and the health-check questionnaire, seeded by a
data migration. After that they are data that network admins edit in the admin (the standard through
a new draft version, so that assessments already made keep the version they were made against).

Criteria: (level, code, statement, guidance, evidence expected). Level 1 is the baseline every provider
must meet; levels 2 and 3 are the incremental steps above it.
"""

FRAMEWORK_TITLE = "THIN Quality Standard"

AREAS = [
    (
        "service-quality",
        "Service quality",
        "The support the provider gives front-line groups: what it offers, how people reach it and how it is kept good.",
        "Services are offered in ways that groups from every community can reach: languages, venues, times and formats.",
        [
            (1, "SQ-B1", "The provider publishes what support it offers, to whom, and how to get it.",
             "Keep the directory entry and service descriptions current; say who is eligible and what it costs.",
             "Link to the directory entry or service leaflet; date last reviewed."),
            (1, "SQ-B2", "The provider has a written way to handle complaints and acts on them.",
             "A short procedure is enough for a small provider, as long as users know about it.",
             "Complaints procedure; a note of complaints received in the last year and what changed."),
            (2, "SQ-L2", "Users' feedback is collected after support and reviewed at least yearly.",
             "Feedback forms, follow-up calls or referral feedback all count.",
             "Summary of feedback and the actions taken from it."),
            (3, "SQ-L3", "Service standards are set, monitored against targets and reported to the board.",
             "For example response times for referrals, or satisfaction targets.",
             "Service standards document; a board report showing performance."),
        ],
    ),
    (
        "governance",
        "Governance",
        "How the provider is run: its board, constitution, legal duties and decisions.",
        "The board reflects, or actively seeks to reflect, the communities the provider serves.",
        [
            (1, "GOV-B1", "The provider has a governing document and a board that meets at least four times a year.",
             "The constitution or articles say what the organisation is for and how decisions are made.",
             "Governing document; minutes or dates of the last four board meetings."),
            (1, "GOV-B2", "Legal and regulatory returns are up to date (Charity Commission, Companies House, HMRC).",
             "Check the public registers; late returns count as not met.",
             "Links to the register entries showing returns filed."),
            (2, "GOV-L2", "Trustees have role descriptions, an induction and a skills audit reviewed every two years.",
             "A skills audit shows the gaps the board should recruit for.",
             "Role descriptions; induction pack; latest skills audit."),
            (3, "GOV-L3", "The board reviews its own performance and its diversity each year and acts on the result.",
             "An external review every few years is good practice.",
             "Board self-review and the action plan that followed."),
        ],
    ),
    (
        "leadership",
        "Leadership",
        "Direction, planning and the management of change.",
        "Leaders set equality objectives and champion them; the leadership team's make-up is monitored.",
        [
            (1, "LEA-B1", "There is a current business or strategic plan agreed by the board.",
             "It says what the provider aims to achieve in the next one to three years.",
             "The plan and the minute approving it."),
            (1, "LEA-B2", "Staff and volunteers know the provider's aims and their part in them.",
             "Team meetings, supervision and induction can all show this.",
             "Induction materials; notes of a team meeting discussing the plan."),
            (2, "LEA-L2", "Risks are identified and reviewed by the board at least yearly.",
             "A simple risk register with owners and actions.",
             "Risk register; board minute reviewing it."),
            (3, "LEA-L3", "Leaders take part in sector-wide planning and develop future leaders within the organisation.",
             "Succession planning and mentoring count here.",
             "Succession plan; examples of leadership development."),
        ],
    ),
    (
        "representation",
        "Representation",
        "Speaking up for the sector and the communities it serves.",
        "The voices of under-represented groups are sought out and carried into consultations.",
        [
            (1, "REP-B1", "The provider has a clear basis for whom it represents and how it hears from them.",
             "A membership, a forum or regular consultation with groups.",
             "Description of the membership or forum; a recent consultation."),
            (1, "REP-B2", "Views put forward on the sector's behalf are reported back to those it represents.",
             "Feedback closes the loop: what was said and what came of it.",
             "A newsletter item, briefing or meeting note reporting back."),
            (2, "REP-L2", "The provider responds to local consultations and policy changes that affect its members.",
             "Joint responses with other providers count.",
             "Copies of consultation responses in the last year."),
            (3, "REP-L3", "The provider sits on strategic partnerships and can show change it influenced.",
             "For example a changed commissioning plan or a funding decision.",
             "Partnership membership; evidence of the influence."),
        ],
    ),
    (
        "accountability",
        "Accountability",
        "Openness to members, users, funders and the public about what the provider does and how it spends money.",
        "Reports show who has been reached, by community, so gaps are visible.",
        [
            (1, "ACC-B1", "Annual accounts and an annual report are published.",
             "On the website or the register; plain-language summaries help.",
             "Link to the latest annual report and accounts."),
            (1, "ACC-B2", "The provider has financial controls: two signatories, budgets and regular management accounts.",
             "Management accounts go to the board at least quarterly.",
             "Financial procedures; a recent set of management accounts."),
            (2, "ACC-L2", "Members and users can take part in an annual general meeting or equivalent.",
             "An open meeting or online consultation on the year's work.",
             "AGM notice and minutes."),
            (3, "ACC-L3", "The provider publishes its performance against its plan, including what did not go well.",
             "An honest annual review builds trust with funders.",
             "Published performance report."),
        ],
    ),
    (
        "impact-assessment",
        "Impact assessment",
        "Knowing and showing the difference the provider makes: outputs and outcomes.",
        "Outcomes are looked at by community so unequal results are spotted.",
        [
            (1, "IMP-B1", "The provider records its outputs: groups supported, by need and by stage.",
             "Referral records in the portal can provide this.",
             "Monitoring figures for the last year."),
            (1, "IMP-B2", "The provider has stated the outcomes it wants for the groups it supports.",
             "What should change for a group after support: skills, funding, governance.",
             "Outcomes framework or theory of change."),
            (2, "IMP-L2", "Outcomes are measured, for example with health checks before and after support.",
             "The portal's health check can show progress over time.",
             "Outcome measures and results."),
            (3, "IMP-L3", "Impact is independently reviewed or benchmarked and the findings published.",
             "Peer review, academic partners or a recognised tool.",
             "Evaluation report."),
        ],
    ),
    (
        "workforce-development",
        "Workforce development",
        "Recruiting, supporting and developing staff and volunteers.",
        "Recruitment is fair and open; the workforce's diversity is monitored against the communities served.",
        [
            (1, "WFD-B1", "Staff and volunteers have written roles, an induction and regular supervision.",
             "Supervision at least every two months for staff.",
             "Job and volunteer role descriptions; induction checklist."),
            (1, "WFD-B2", "Employment policies meet the law: equal opportunities, safeguarding, health and safety.",
             "Policies reviewed in the last three years.",
             "The policies and their review dates."),
            (2, "WFD-L2", "Each person has a training plan and training is recorded.",
             "Annual appraisals that lead to a plan.",
             "Training records; appraisal template."),
            (3, "WFD-L3", "The provider holds a recognised people standard (for example Investing in Volunteers).",
             "Any external accreditation for people management.",
             "Certificate and date."),
        ],
    ),
    (
        "partnership-working",
        "Partnership working",
        "Working with other providers, the public sector and business for the sector's good.",
        "Partnerships include specialist and BME providers so every community is reached.",
        [
            (1, "PAR-B1", "The provider refers groups on when another provider is better placed to help.",
             "Using the portal's referral process counts.",
             "Referral records; examples of groups passed on."),
            (1, "PAR-B2", "The provider takes part in the infrastructure network's meetings.",
             "Attending most network meetings in the year.",
             "Attendance record."),
            (2, "PAR-L2", "The provider runs joint projects with other providers, with agreed roles.",
             "A partnership agreement or memorandum of understanding.",
             "Agreement and a project report."),
            (3, "PAR-L3", "The provider leads a consortium or partnership that delivers public services.",
             "Lead-body arrangements with clear governance.",
             "Consortium agreement; contract."),
        ],
    ),
]

# (code, name, description, need codes, questions). A question is (text, help, stages asked).
ALL = (1, 2, 3)
HEALTH_CHECK = [
    (
        "governance",
        "Governance",
        "How your group is run and who makes decisions.",
        ["governance-and-trustees"],
        [
            ("We have a written constitution or governing document.", "", ALL),
            ("Our committee or board meets regularly and keeps minutes.", "", ALL),
            ("Trustees know their legal duties and have had an induction.", "", (2, 3)),
            ("The board reviews its skills and diversity and recruits to fill gaps.", "", (3,)),
        ],
    ),
    (
        "finance",
        "Finance",
        "Keeping and controlling your money.",
        ["community-accountancy-and-finance"],
        [
            ("We have a bank account with at least two signatories.", "", ALL),
            ("We keep a record of all money in and out.", "", ALL),
            ("We set a budget each year and compare spending with it.", "", (2, 3)),
            ("Our accounts are independently examined or audited.", "", (2, 3)),
            ("We have a reserves policy and monthly management accounts.", "", (3,)),
        ],
    ),
    (
        "people-and-volunteers",
        "People and volunteers",
        "Recruiting, supporting and keeping staff and volunteers.",
        ["volunteers-and-volunteering", "hr-and-employment-advice"],
        [
            ("Volunteers have a clear role and someone to go to for support.", "", ALL),
            ("We have a safeguarding policy and people know how to use it.", "Including DBS checks where needed.", ALL),
            ("Staff have contracts, job descriptions and regular supervision.", "", (2, 3)),
            ("We have up-to-date employment policies and a training plan.", "", (3,)),
        ],
    ),
    (
        "premises",
        "Premises",
        "Where you work and meet.",
        ["premises"],
        [
            ("We have a safe, accessible place to meet or work.", "", ALL),
            ("We have public liability insurance.", "", ALL),
            ("Our premises have had a health and safety and fire risk assessment.", "", (2, 3)),
            ("We have a plan for our premises' future: lease, costs and maintenance.", "", (3,)),
        ],
    ),
    (
        "ict",
        "ICT",
        "Computers, data and your online presence.",
        ["ict-support"],
        [
            ("We have an email address and a way for people to find us online.", "", ALL),
            ("We keep personal data securely and know our UK GDPR duties.", "", ALL),
            ("Our files are backed up and devices are protected.", "", (2, 3)),
            ("We have an ICT plan and budget, and staff are trained to use our systems.", "", (3,)),
        ],
    ),
    (
        "quality",
        "Quality",
        "Knowing your work is good and improving it.",
        ["quality-assurance"],
        [
            ("We ask the people we help what they think of our work.", "", ALL),
            ("We keep a record of what we do and who we help.", "", ALL),
            ("We have written aims and check each year whether we met them.", "", (2, 3)),
            ("We use a recognised quality standard or have a quality assurance process.", "", (3,)),
        ],
    ),
    (
        "funding",
        "Funding",
        "Raising money and planning for the future.",
        ["funding-and-fundraising"],
        [
            ("We know where our next year's money will come from.", "", ALL),
            ("We have applied for a grant or raised funds in the last year.", "", ALL),
            ("We have more than one source of income.", "", (2, 3)),
            ("We have a fundraising strategy and can bid for contracts.", "", (3,)),
        ],
    ),
]


def seed_framework(FrameworkVersion, StandardArea, Criterion) -> None:
    """Create version 1 of the standard, published, if there is no version yet. Safe to run again."""
    if FrameworkVersion.objects.exists():
        return
    version = FrameworkVersion.objects.create(
        number=1, title=FRAMEWORK_TITLE, status="published", notes="First version, agreed by the network."
    )
    for order, (code, name, description, diversity, criteria) in enumerate(AREAS):
        area = StandardArea.objects.create(
            version=version, code=code, name=name, description=description, diversity=diversity, order=order
        )
        for criterion_order, (level, criterion_code, statement, guidance, evidence) in enumerate(criteria):
            Criterion.objects.create(
                area=area,
                level=level,
                code=criterion_code,
                statement=statement,
                guidance=guidance,
                evidence_expected=evidence,
                order=criterion_order,
            )


def seed_health_check(HealthCheckArea, HealthCheckQuestion, TaxonomyTerm) -> None:
    """Create the questionnaire's areas and questions if there are none. Safe to run again."""
    if HealthCheckArea.objects.exists():
        return
    for order, (code, name, description, need_codes, questions) in enumerate(HEALTH_CHECK):
        area = HealthCheckArea.objects.create(code=code, name=name, description=description, order=order)
        area.needs.set(TaxonomyTerm.objects.filter(taxonomy__code="needs", code__in=need_codes))
        for question_order, (text, help_text, stages) in enumerate(questions):
            HealthCheckQuestion.objects.create(
                area=area,
                text=text,
                help_text=help_text,
                order=question_order,
                for_stage_1=1 in stages,
                for_stage_2=2 in stages,
                for_stage_3=3 in stages,
            )
