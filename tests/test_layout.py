"""The arrows of the layout point one way (README "Layout"): insights -> ml -> clients,
integrations -> clients, and inside integrations the sandbox and the simulator import the
connectors, never the reverse. Checked on the import statements of every module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# package -> packages it must never import
FORBIDDEN = {
    "clients": ("integrations", "ml", "insights"),
    "ml": ("integrations", "insights"),
    "integrations": ("ml", "insights"),
}
# Test and demo doubles of the outside world: only they and tests may import them.
DOUBLES = ("integrations.sandbox", "integrations.simulator")


def _imports(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in a file, relative imports resolved."""
    module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
    package = module.rsplit(".", 1)[0] if path.name != "__init__.py" else module.removesuffix(".__init__")
    found = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
    return found


def _sources(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_an_app_imports_only_downstream(app):
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}"
             for p in _sources(app) for line, name in _imports(p)
             if name.split(".")[0] in FORBIDDEN[app]]
    assert wrong == []


def test_connectors_never_import_the_sandbox_or_the_simulator():
    wrong = []
    for path in _sources("integrations"):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if module.startswith(DOUBLES):
            continue
        wrong += [f"{path.relative_to(ROOT)}:{line} imports {name}" for line, name in _imports(path)
                  if name.startswith(DOUBLES)]
    assert wrong == []


def test_the_check_sees_a_reverse_import():
    """The checks above are only worth something if a reverse arrow would be found."""
    probe = ROOT / "integrations" / "quickbooks" / "probe.py"  # never written: only its name is used
    names = [name for _, name in _imports(probe, "from ..sandbox.world import World\nimport ml.features\n")]
    assert names == ["integrations.sandbox.world.World", "ml.features"]
