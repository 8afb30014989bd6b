"""`make app` (python manage.py startresource): a new API resource, or one clear refusal."""

import shutil
from importlib.util import find_spec
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from scaffold.management.commands import startresource

# What the command reads and changes, besides the folders it creates.
CHANGED = ("config/settings/base.py", "tests/factories.py", "pyproject.toml")


def api_urls(root: Path) -> Path:
    """The router's module: api/urls.py (split layout) or books/api/urls.py (single)."""
    return next(
        path for path in (root / "api/urls.py", root / "books/api/urls.py") if path.is_file()
    )


@pytest.fixture
def project(tmp_path: Path, settings: Any) -> Path:
    """A copy of the files the command changes, standing in for the project's folder."""
    root = Path(settings.BASE_DIR)
    for path in (*CHANGED, str(api_urls(root).relative_to(root))):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(root / path, tmp_path / path)
    settings.BASE_DIR = tmp_path
    return tmp_path


def snapshot(root: Path) -> dict[str, str]:
    return {str(path): path.read_text() for path in sorted(root.rglob("*")) if path.is_file()}


def test_startresource_writes_an_app_its_api_its_tests_and_registers_them(project: Path) -> None:
    """The app, its task, its API package and tests are written; settings (the app and
    its schema tag), router and factories gain it."""
    out = StringIO()

    call_command("startresource", "probe_loans", stdout=out)

    api = "api/probe_loans" if (project / "api/urls.py").is_file() else "probe_loans/api"
    created = [
        "probe_loans/apps.py",
        "probe_loans/models.py",
        "probe_loans/admin.py",
        "probe_loans/migrations/__init__.py",
        "probe_loans/tasks.py",
        f"{api}/serializers.py",
        f"{api}/filters.py",
        f"{api}/views.py",
        "tests/test_probe_loans_api.py",
        "tests/test_probe_loans_tasks.py",
    ]
    for path in created:
        source = (project / path).read_text()
        compile(source, path, "exec")  # valid Python, every placeholder filled
        assert "$" not in source, path
        assert f"created {path}" in out.getvalue()
    settings_text = (project / CHANGED[0]).read_text()
    assert '    "probe_loans.apps.ProbeLoansConfig",\n]' in settings_text
    # The schema's last tag describes the resource (however ruff wrapped the line).
    tag = '{"name":"probe_loans","description":"ProbeLoans:list,search,add,change,delete."},],'
    assert tag in "".join(settings_text.split())
    urls = api_urls(project).read_text()
    assert 'router.register("probe_loans", ProbeLoanViewSet, basename="probe_loan")' in urls
    assert f"from {api.replace('/', '.')}.views import ProbeLoanViewSet" in urls
    factories = (project / "tests/factories.py").read_text()
    assert "from probe_loans.models import ProbeLoan\n" in factories
    assert "class ProbeLoanFactory(factory.django.DjangoModelFactory[ProbeLoan]):" in factories
    assert "served at /api/v1/probe_loans/" in out.getvalue()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["Loans"], '"Loans" is not a valid app name'),
        (["2loans"], '"2loans" is not a valid app name'),
        (["loan-items"], '"loan-items" is not a valid app name'),
        (["class"], '"class" is a Python keyword'),
        (["match"], '"match" is a Python keyword'),
        (["books"], '"books" is already the label of an installed app'),
        (["auth"], '"auth" is already the label of an installed app'),
        (["config"], '"config" already exists'),
        (["json"], '"json" is the name of an importable Python module'),
        (["probes", "--model", "probe"], '"probe" is not a valid model name'),
        (["novels", "--model", "Book"], 'The API already has "books" (route name "book")'),
    ],
)
def test_startresource_refuses_a_bad_name_and_writes_nothing(
    project: Path, arguments: list[str], message: str
) -> None:
    """Each unusable name gets one error naming it and the fix; no file is created or changed."""
    before = snapshot(project)

    with pytest.raises(CommandError, match=r"Choose another|use ") as raised:
        call_command("startresource", *arguments)

    assert message in str(raised.value)
    assert snapshot(project) == before


def test_startresource_keeps_existing_tests(project: Path) -> None:
    """An existing test module of that name stops it before anything is written."""
    (project / "tests/test_probes_api.py").write_text("# the team's own\n")
    before = snapshot(project)

    with pytest.raises(CommandError, match="already exists; nothing was written"):
        call_command("startresource", "probes")

    assert snapshot(project) == before


def test_startresource_needs_the_api_urls_and_installed_apps(project: Path) -> None:
    """Without the router's module or the INSTALLED_APPS list it says what to add by hand."""
    (project / "config/settings/base.py").write_text("DEBUG = False\n")
    with pytest.raises(CommandError, match='no "INSTALLED_APPS = \\[" list'):
        call_command("startresource", "probes")

    api_urls(project).unlink()
    with pytest.raises(CommandError, match="No API URLs found"):
        call_command("startresource", "probes")
    assert not (project / "probes").exists()


def test_startresource_without_ruff_says_to_format(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where ruff is not installed the files are still written, with a hint to format them."""
    monkeypatch.setattr(
        startresource, "find_spec", lambda name: None if name == "ruff" else find_spec(name)
    )
    out = StringIO()

    call_command("startresource", "probes", stdout=out)

    assert "run `make format`" in out.getvalue()
    assert (project / "probes/models.py").is_file()


@pytest.mark.parametrize(
    ("app", "model"),
    [
        ("loans", "Loan"),
        ("categories", "Category"),
        ("book_loans", "BookLoan"),
        ("status", "Status"),
    ],
)
def test_model_name_is_the_singular_of_the_app(app: str, model: str) -> None:
    """The default model name is the app's name in the singular, in CamelCase."""
    assert startresource.singular_model(app) == model


def test_index_names_fit_django_limit() -> None:
    """Index names are cut to Django's 30 characters."""
    name = startresource.index_name("a_rather_long_application_name", "created_order")

    assert len(name) == 30
    assert name.endswith("_created_order")
