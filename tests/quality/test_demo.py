"""The quality demo data, on top of the demo borough: loads, and loading again changes nothing."""

from core.uploads import detect_file_type
from directory.demo import load_demo_data
from organisations.demo import DEMO_VCO
from quality.demo import load_quality_demo, simple_pdf
from quality.models import Badge, HealthCheck, Material, SelfAssessment


def test_quality_demo_loads_once(seeded_quality, settings, tmp_path):
    settings.PRIVATE_FILES_ROOT = tmp_path / "files"
    load_demo_data()
    report = load_quality_demo()
    assert report.badges >= 10 and report.assessments == 1 and report.materials == 12 and report.health_checks == 1
    assert SelfAssessment.objects.filter(status="submitted").count() == 1
    assert HealthCheck.objects.get().organisation.slug == DEMO_VCO
    again = load_quality_demo()
    assert again.__dict__ == {"badges": 0, "assessments": 0, "materials": 0, "health_checks": 0}
    assert Badge.objects.count() == report.badges and Material.objects.count() == 12


def test_generated_pdfs_pass_the_content_check():
    assert detect_file_type(simple_pdf("Title (with brackets)", ["A line", "Another"])) == "pdf"
