"""The layout: dependencies between the project's apps point one way, lowest layer first.

Every .py file of the project's apps (migrations and tests aside) is parsed, and each of its imports,
at the top or inside a function, is checked against LAYERS: a module may import its own app, any app
in a lower layer, and nothing else (not a higher layer, and not another app of its own layer). Model
relations (foreign keys and many-to-many fields, which name their model as a string and so import
nothing) are held to the same order.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. An entry is a module prefix: "thin_portal.celery" (the Celery app, which tasks import)
# is plumbing, while the rest of thin_portal (settings, root URLs, views, WSGI) is the top and may
# import everything. A new app gets a place here; to let one plumbing app use another, give them
# layers of their own (core, then the one that uses it).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core", "thin_portal.celery"),
    ("accounts",),
    ("taxonomies", "notifications", "site_pages"),
    ("organisations",),
    ("directory",),
    ("referrals", "calendar_events", "quality"),
    ("evidence",),
    ("thin_portal",),
)

# Imports that break the layers today, each with the step of issue 14 that removes it. Keep it short.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()

# Model relations that point up or sideways, as (model.field, related model). None: a reminder's link
# to the record it is about is generic (notifications.Reminder.about), and organisations declare the
# reverse side.
KNOWN_RELATION_EXCEPTIONS: set[tuple[str, str]] = set()

SKIPPED_FOLDERS = {"migrations", "tests", "__pycache__"}


def _app_of(module: str) -> str | None:
    """The LAYERS entry a module belongs to: the longest matching prefix."""
    matches = [
        prefix for layer in LAYERS for prefix in layer if module == prefix or module.startswith(prefix + ".")
    ]
    return max(matches, key=len) if matches else None


def _layer_of(app: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if app in layer)


def _project_apps() -> list[Path]:
    return sorted(
        path.parent for path in ROOT.glob("*/__init__.py") if path.parent.name not in {"tests", "bench"}
    )


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported_modules(source: str, module: str, *, is_package: bool) -> set[str]:
    """Every module an import statement reaches, relative imports resolved. `from x import y` reaches
    x.y where that is a module with a layer of its own (`from thin_portal import celery`), else x."""
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if _app_of(submodule) != _app_of(base) else base)
    return found


def _violations() -> list[tuple[str, str]]:
    violations = []
    for app_folder in _project_apps():
        for path in sorted(app_folder.rglob("*.py")):
            if SKIPPED_FOLDERS & set(path.relative_to(ROOT).parts):
                continue
            module = _module_name(path)
            source_app = _app_of(module)
            assert source_app, f"{module} is in no layer: add its app to LAYERS in {__file__}"
            for target in _imported_modules(path.read_text(), module, is_package=path.name == "__init__.py"):
                target_app = _app_of(target)
                if target_app is None or target_app == source_app:
                    continue
                upward_or_sideways = _layer_of(target_app) >= _layer_of(source_app)
                if upward_or_sideways and (module, target) not in KNOWN_EXCEPTIONS:
                    violations.append((module, target))
    return sorted(set(violations))


def test_no_model_relation_points_upwards_or_sideways():
    from django.apps import apps

    violations = []
    for model in apps.get_models():
        source_app = _app_of(model.__module__)
        if source_app is None:
            continue
        for field in model._meta.get_fields():
            if not field.is_relation or field.auto_created or field.related_model is None:
                continue
            target_app = _app_of(field.related_model.__module__)
            if target_app is None or target_app == source_app:
                continue
            relation = (f"{model._meta.label}.{field.name}", field.related_model._meta.label)
            if _layer_of(target_app) >= _layer_of(source_app) and relation not in KNOWN_RELATION_EXCEPTIONS:
                violations.append(relation)
    assert not violations, "model relations against the layers:\n" + "\n".join(f"  {a} -> {b}" for a, b in violations)


def test_every_project_app_has_a_layer():
    layered = {prefix.split(".")[0] for layer in LAYERS for prefix in layer}
    apps = {folder.name for folder in _project_apps()}
    assert apps <= layered, f"apps missing from LAYERS: {sorted(apps - layered)}"


def test_no_app_imports_upwards_or_sideways():
    violations = _violations()
    assert not violations, "imports against the layers (importer -> imported):\n" + "\n".join(
        f"  {module} -> {target}" for module, target in violations
    )


@pytest.mark.parametrize(
    ("source", "module", "is_package", "expected"),
    [
        ("from . import hooks", "directory.views", False, {"directory"}),
        ("from ..models import Schedule", "directory.api.params", False, {"directory.models"}),
        ("from .celery import app", "thin_portal", True, {"thin_portal.celery"}),
        ("from thin_portal import celery", "directory.tasks", False, {"thin_portal.celery"}),
        ("from thin_portal import views", "directory.tasks", False, {"thin_portal"}),
        ("def f():\n    import evidence.models", "directory.views", False, {"evidence.models"}),
    ],
)
def test_imports_are_resolved(source, module, is_package, expected):
    assert _imported_modules(source, module, is_package=is_package) == expected


def test_an_upward_import_is_caught():
    imported = _imported_modules("from referrals.models import Referral", "directory.views", is_package=False)
    assert any(_app_of(target) == "referrals" for target in imported)
    assert _layer_of("referrals") > _layer_of("directory")
