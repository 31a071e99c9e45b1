"""The layers stay apart: one check, import-linter's contracts in pyproject.toml (the UI over
the services over the store over the core, nothing below the UI importing Textual, the core
knowing no storage), run here so that CI fails when they are broken."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    lint = Path(sys.executable).parent / "lint-imports"
    command = str(lint) if lint.exists() else shutil.which("lint-imports")
    assert command, "import-linter (a dev dependency) is not installed"
    return subprocess.run(
        [command, "--no-cache"], capture_output=True, text=True, cwd=cwd, check=False
    )


def test_the_layers_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "planted"),
    [
        # A service reaching up into the UI, directly and through another module.
        ("services/retention.py", "from dsl_console.ui import failures"),
        ("services/retention.py", "from dsl_console import commands"),
        ("store/listing.py", "from dsl_console.services import sweep"),
        ("core/flags.py", "import peewee"),
        ("store/users.py", "import textual"),
    ],
)
def test_an_import_against_the_layers_fails_the_check(tmp_path, module, planted):
    # The check must be able to fail: a copy of the package with one such import planted.
    shutil.copytree(ROOT / "dsl_console", tmp_path / "dsl_console")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "dsl_console" / module
    text = target.read_text(encoding="utf-8")
    marker = "from __future__ import annotations\n"
    target.write_text(text.replace(marker, f"{marker}\n{planted}  # noqa\n", 1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports_command;"
         "sys.exit(lint_imports_command())", "--no-cache"],
        capture_output=True, text=True, cwd=tmp_path, check=False,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    assert "BROKEN" in result.stdout
