"""Demo data for the quality app, on top of the directory's demo borough (directory/demo.py), for local
development only: badges for a third of the providers, an assessment waiting for peer review, a
library of support materials (small generated PDFs, and links to national resources) and an earlier
health check for the demo VCO, so its editor can take it again and see progress.

Safe to run again: whatever exists is left alone.
"""

import random
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from organisations.demo import DEMO_PROVIDER, DEMO_VCO
from organisations.models import Organisation
from taxonomies.models import TaxonomyTerm

from . import selectors, services
from .models import Badge, CriterionResponse, FrameworkVersion, HealthCheck, Level, Material, SelfAssessment

SEED = 6
# (title, kind, need codes, function codes, stages, summary, text of the PDF)
MATERIALS = [
    ("Setting up a new community group", "fact_sheet", ["setting-up-a-new-group", "governance-and-trustees"], ["information-and-advice"], (1,),
     "The first steps: a constitution, a committee, a bank account and insurance.",
     ["Agree your aims and write them down.", "Adopt a simple constitution.", "Elect a committee: chair, treasurer, secretary.", "Open a bank account with two signatories."]),
    ("Cash book template", "qa_template", ["community-accountancy-and-finance"], ["information-and-advice"], (1, 2),
     "A simple way to record every payment in and out, month by month.",
     ["Record the date, who paid or was paid, and what for.", "Keep receipts in the same order.", "Check against the bank statement every month."]),
    ("Budgeting and reserves tool kit", "tool_kit", ["community-accountancy-and-finance", "funding-and-fundraising"], ["training"], (2, 3),
     "Set a yearly budget, compare it with spending and decide how much to keep in reserve.",
     ["List all income you expect, and how sure it is.", "Cost every activity, including overheads.", "Set a reserves policy: three months' running costs is common."]),
    ("Trustee induction pack", "tool_kit", ["governance-and-trustees"], ["training"], (2, 3),
     "What new trustees need to know: duties, documents and the board's calendar.",
     ["The six main duties of a charity trustee.", "Documents every trustee should see.", "A year of board meetings at a glance."]),
    ("Volunteer policy (model)", "policy", ["volunteers-and-volunteering"], ["standards-and-best-practice"], (1, 2, 3),
     "A model volunteer policy to adapt: recruitment, support, expenses and problems.",
     ["Why we involve volunteers.", "How we recruit, induct and support them.", "Expenses we pay.", "What to do if things go wrong."]),
    ("Safeguarding policy (model)", "policy", ["dbs-criminal-record-checks", "volunteers-and-volunteering"], ["standards-and-best-practice"], (1, 2, 3),
     "A model safeguarding policy for groups working with children or adults at risk.",
     ["Name a safeguarding lead.", "Decide which roles need a DBS check.", "Record and report concerns."]),
    ("Health and safety checklist for premises", "health_check", ["premises", "health-and-safety"], ["information-and-advice"], (1, 2, 3),
     "A walk-round checklist: fire safety, first aid, access and risk assessments.",
     ["Fire exits clear and signed.", "First aid kit stocked; a trained first aider.", "Risk assessment reviewed this year."]),
    ("Data protection for small groups", "fact_sheet", ["ict-support", "policy-and-information"], ["information-and-advice"], (1, 2),
     "UK GDPR in plain words: what personal data you hold, why, and how to keep it safe.",
     ["Know what personal data you hold and why.", "Keep it secure and only as long as needed.", "Tell people how you use it."]),
    ("Writing a funding bid", "fact_sheet", ["funding-and-fundraising"], ["training"], (1, 2),
     "How to read a funder's criteria and write a bid that answers them.",
     ["Read the criteria twice.", "Say what will change, for whom, and how you will know.", "Cost it fully."]),
    ("Quality self-assessment template", "qa_template", ["quality-assurance"], ["standards-and-best-practice"], (2, 3),
     "Check your organisation against a simple quality framework and plan improvements.",
     ["For each area: what we do now, the evidence, what we will improve.", "Review it with your board every year."]),
]
LINKS = [
    ("NCVO help and guidance", "https://www.ncvo.org.uk/help-and-guidance/", "national", ["governance-and-trustees", "funding-and-fundraising"],
     "National guidance for voluntary organisations on running a charity, funding, volunteers and more."),
    ("Charity Commission guidance", "https://www.gov.uk/government/organisations/charity-commission", "national", ["governance-and-trustees"],
     "The regulator's guidance for trustees: duties, annual returns and registering a charity."),
]


def simple_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF with a title and a few lines of text, built by hand (no PDF library needed)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("latin-1", "replace").decode("latin-1")

    text = ["BT /F1 18 Tf 56 780 Td (" + escape(title) + ") Tj ET"]
    for number, line in enumerate(lines):
        text.append(f"BT /F1 12 Tf 56 {740 - 22 * number} Td (" + escape(line) + ") Tj ET")
    stream = "\n".join(text).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


@dataclass
class QualityDemoReport:
    badges: int = 0
    assessments: int = 0
    materials: int = 0
    health_checks: int = 0


def _terms(taxonomy: str, codes) -> list[TaxonomyTerm]:
    return list(TaxonomyTerm.objects.filter(taxonomy__code=taxonomy, code__in=codes))


def _answered_assessment(organisation: Organisation, *, by: User | None, levels: dict[str, int], status: str) -> SelfAssessment:
    version = FrameworkVersion.objects.published().get()
    assessment = SelfAssessment.objects.create(organisation=organisation, version=version, status=status, started_by=by)
    responses = []
    for area in version.areas.prefetch_related("criteria"):
        reached = levels.get(area.code, Level.BASELINE)
        for criterion in area.criteria.all():
            met = criterion.level <= reached
            responses.append(
                CriterionResponse(
                    assessment=assessment,
                    criterion=criterion,
                    rating=CriterionResponse.Rating.MET if met else CriterionResponse.Rating.NOT_MET,
                    evidence_text="Policy document and board minutes, reviewed this year." if met else "",
                    review_status=CriterionResponse.ReviewStatus.VERIFIED if status == SelfAssessment.Status.VERIFIED else CriterionResponse.ReviewStatus.PENDING,
                )
            )
    CriterionResponse.objects.bulk_create(responses)
    return assessment


@transaction.atomic
def load_quality_demo(*, today=None) -> QualityDemoReport:
    today = today or timezone.localdate()
    report = QualityDemoReport()
    rng = random.Random(SEED)
    admin = User.objects.filter(role=User.Role.NETWORK_ADMIN).order_by("pk").first()
    providers = list(Organisation.objects.active().providers().exclude(slug=DEMO_PROVIDER).order_by("slug"))
    if not providers:
        raise LookupError("Load the directory's demo data first: manage.py load_demo_data")
    area_codes = list(FrameworkVersion.objects.published().get().areas.values_list("code", flat=True))

    # Badges for every third provider, one of them expiring within two months (a renewal reminder).
    for index, provider in enumerate(providers[::3]):
        if Badge.objects.filter(organisation=provider).exists() or SelfAssessment.objects.filter(organisation=provider).exists():
            continue
        levels = {code: rng.choice([0, 1, 1, 1, 2, 2, 3]) for code in area_codes}
        assessment = _answered_assessment(provider, by=None, levels=levels, status=SelfAssessment.Status.VERIFIED)
        verified_on = today - timedelta(days=rng.randint(20, 600))
        if index == 0:
            verified_on = today - timedelta(days=700)
        responses = list(assessment.responses.select_related("criterion"))
        services.issue_badge(assessment=assessment, responses=responses, by=admin, today=verified_on)
        report.badges += 1

    # One provider's assessment waits for peer review: the demo officer (at another provider) can review it.
    waiting = providers[1]
    if not SelfAssessment.objects.filter(organisation=waiting).exists():
        assessment = _answered_assessment(waiting, by=None, levels={"governance": 2}, status=SelfAssessment.Status.SUBMITTED)
        SelfAssessment.objects.filter(pk=assessment.pk).update(submitted_at=timezone.now() - timedelta(days=3))
        report.assessments += 1

    # The library.
    for title, kind, needs, functions, stages, summary, lines in MATERIALS:
        if Material.objects.filter(title=title).exists():
            continue
        upload = SimpleUploadedFile(f"{title.lower().replace(' ', '-')}.pdf", simple_pdf(title, lines), content_type="application/pdf")
        services.create_material(
            data={
                "title": title, "summary": summary, "kind": kind,
                "needs": _terms("needs", needs), "functions": _terms("functions", functions),
                **{f"for_stage_{n}": n in stages for n in (1, 2, 3)},
            },
            upload=upload,
            organisation=rng.choice(providers),
            by=admin,
        )
        report.materials += 1
    for title, url, level, needs, summary in LINKS:
        if Material.objects.filter(title=title).exists():
            continue
        services.create_material(
            data={"title": title, "summary": summary, "kind": Material.Kind.LINK, "external_url": url, "geographic_level": level,
                  "needs": _terms("needs", needs)},
            upload=None,
            organisation=None,
            by=admin,
        )
        report.materials += 1

    # The demo VCO took the health check eight months ago: finance and funding were weak.
    vco = Organisation.objects.filter(slug=DEMO_VCO).first()
    if vco and not HealthCheck.objects.filter(organisation=vco).exists():
        stage = vco.development_stage or 1
        answers = {
            question.pk: (0 if question.area.code in ("finance", "funding") else rng.choice([1, 2, 2, 3]))
            for question in selectors.health_check_questions(stage)
        }
        editor = User.objects.filter(affiliations__organisation=vco).order_by("pk").first()
        check = services.record_health_check(organisation=vco, stage=stage, answers=answers, by=editor)
        HealthCheck.objects.filter(pk=check.pk).update(completed_at=timezone.now() - timedelta(days=240))
        report.health_checks += 1
    return report
