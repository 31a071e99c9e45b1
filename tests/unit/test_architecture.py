"""The layers stay apart: nothing below the UI imports Textual; the core knows no storage."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "dsl_console"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("layer", ["core", "store", "services"])
def test_no_textual_below_the_ui(layer: str):
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / layer).rglob("*.py")
        if any(m == "textual" or m.startswith("textual.") for m in imported_modules(path))
    ]
    assert offenders == []


def test_core_imports_no_peewee_and_no_store():
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in (PACKAGE / "core").rglob("*.py")
        if any(
            m.split(".")[0] in ("peewee", "playhouse", "sqlcipher3")
            or m.startswith(("dsl_console.store", "dsl_console.services"))
            for m in imported_modules(path)
        )
    ]
    assert offenders == []


def test_import_linter_contracts_hold():
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(lint).exists():
        lint = None
    if lint is None:
        pytest.skip("import-linter is not installed")
    result = subprocess.run([lint], capture_output=True, text=True, cwd=PACKAGE.parent, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
