"""Tab completion: `dsl-console completion bash` gives a script that bash sources, and that
completes the commands, their subcommands and the choices of their options, made from the
command line itself (a command or a form added is offered without touching the script)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dsl_console.cli import main
from dsl_console.core.forms import FORM_IDS

bash = shutil.which("bash")

COMPLETE = r"""
source "$1"
fn=$(complete -p dsl-console | sed -E 's/.*-F ([^ ]+).*/\1/')
shift
COMP_WORDS=(dsl-console "$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
"$fn" dsl-console "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
printf '%s\n' "${COMPREPLY[@]}"
"""


@pytest.fixture
def script(tmp_path, capsys) -> str:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    assert main(["completion", "bash"]) == 0
    path = tmp_path / "dsl-console.bash"
    path.write_text(capsys.readouterr().out)
    return str(path)


def offered(script: str, *words: str) -> list[str]:
    done = subprocess.run(
        [bash or "bash", "-c", COMPLETE, "complete", script, *words],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return done.stdout.split()


@pytest.mark.skipif(bash is None, reason="needs bash")
def test_bash_completes_commands_subcommands_and_choices(script):
    assert offered(script, "ex") == ["export"]
    assert set(offered(script, "export", "")) == {"json", "log", "report", "analysis"}
    assert offered(script, "export", "report", "--form", "") == list(FORM_IDS)
    assert "rekey" in offered(script, "user", "")
    assert offered(script, "export", "log", "--format", "") == ["csv", "xlsx"]


def test_an_unknown_shell_is_one_line(capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["completion", "fish"])
    assert stopped.value.code == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err
