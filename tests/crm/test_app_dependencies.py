"""Which app may import which (docs/architecture.md): the platform none of the domain apps;
interactions the contacts; sales and support both of those, not each other. Read from the
source's import statements, so a new module cannot slip past it."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("crm", "contacts", "interactions", "sales", "support")
ALLOWED = {
    "crm": set(),
    "contacts": {"crm"},
    "interactions": {"crm", "contacts"},
    "sales": {"crm", "contacts", "interactions"},
    "support": {"crm", "contacts", "interactions"},
}


def _imports(app: str) -> dict[str, set[str]]:
    """Each other app this one imports, with the modules that import it."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / app).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in APPS and top != app:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


@pytest.mark.parametrize("app", APPS)
def test_an_app_imports_only_the_apps_beneath_it(app: str) -> None:
    forbidden = {
        other: sorted(modules)
        for other, modules in _imports(app).items()
        if other not in ALLOWED[app]
    }
    assert forbidden == {}


def test_the_check_sees_imports() -> None:
    assert _imports("sales").keys() >= {"crm", "contacts", "interactions"}
