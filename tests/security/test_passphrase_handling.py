"""What the passphrase leaves behind: a private file instead of a variable that stays readable in
/proc for the process's lifetime, a variable forgotten before the console starts its helpers,
and no core file to carry the key out of a crash."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from dsl_console.errors import AccessError
from dsl_console.services.session import ENV_PASSPHRASE, account_from_environment
from tests.security.conftest import REAL_PASSPHRASE, cli_command, one_error_line, run_cli
from tests.security.test_cli_unlock import db, template  # noqa: F401 (fixtures)


def test_the_passphrase_can_come_from_a_private_file(db: Path, tmp_path: Path) -> None:  # noqa: F811
    secret = tmp_path / "passphrase"
    secret.write_text(REAL_PASSPHRASE + "\n", encoding="utf-8")
    secret.chmod(0o600)
    env_file = {"DSL_CONSOLE_PASSPHRASE_FILE": str(secret)}
    done = _run_with(env_file, "--db", str(db), "check", home=tmp_path)
    assert done.returncode in (0, 1), done.stderr  # unlocked: 1 is "flags found"
    # Readable by others, it is refused with one line, whatever it holds.
    secret.chmod(0o644)
    line = one_error_line(_run_with(env_file, "--db", str(db), "check", home=tmp_path))
    assert "DSL_CONSOLE_PASSPHRASE_FILE" in line and "chmod 600" in line
    assert REAL_PASSPHRASE not in line


def test_the_console_forgets_the_variable_before_anything_starts(monkeypatch) -> None:
    monkeypatch.setenv("DSL_CONSOLE_USER", "jo.lead")
    monkeypatch.setenv(ENV_PASSPHRASE, "fictional passphrase here")
    assert account_from_environment(forget=True) == ("jo.lead", "fictional passphrase here")
    assert ENV_PASSPHRASE not in os.environ  # a helper process started now would not get it
    monkeypatch.setenv("DSL_CONSOLE_PASSPHRASE_FILE", "/nonexistent/passphrase")
    with pytest.raises(AccessError, match="cannot be read"):
        account_from_environment()


def test_the_command_runs_with_core_dumps_off(tmp_path: Path) -> None:
    # `import -` waits on its standard input: long enough to read its limits from outside,
    # once main() has set them (a shell that allows core files is overruled).
    proc = subprocess.Popen(
        [
            *("sh", "-c", 'ulimit -c unlimited; exec "$@"', "sh"),
            *cli_command(),
            *("--db", str(tmp_path / "none.db"), "import", "-"),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "DSL_CONSOLE_USER": "jo.lead", ENV_PASSPHRASE: "fictional one"},
    )
    try:
        deadline = time.monotonic() + 30
        while (core := _core_limit(proc.pid)) != ["0", "0"] and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        proc.kill()
        proc.wait()
    assert core == ["0", "0"]


def _core_limit(pid: int) -> list[str]:
    """The soft and hard core-file limits of a running process, as /proc gives them."""
    limits = Path(f"/proc/{pid}/limits").read_text(encoding="utf-8")
    line = next(line for line in limits.splitlines() if line.startswith("Max core file size"))
    return line.split()[4:6]


def _run_with(extra: dict[str, str], *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The installed command with the account's name and the given variables, no passphrase."""
    return run_cli(*args, home=home, passphrase=None, extra_env=extra)


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc (Linux)")
def test_a_helper_process_never_holds_the_passphrase_variable(monkeypatch) -> None:
    # A command-line command reads DSL_CONSOLE_PASSPHRASE and keeps it (it may be asked for
    # again in this process); the helpers it starts (a large export's, the sweep's) and the
    # fork server they come from must not carry it in their own /proc environ.
    from dsl_console.services import helpers
    from dsl_console.services.sweep_process import serve

    monkeypatch.setenv(ENV_PASSPHRASE, "fictional passphrase in the environment")
    monkeypatch.setenv("DSL_CONSOLE_NEW_PASSPHRASE", "fictional new passphrase too")
    process, ours = helpers.start(serve, "dsl-console sweep")
    try:
        environ = Path(f"/proc/{process.pid}/environ").read_bytes()
        assert b"fictional passphrase in the environment" not in environ
        assert b"fictional new passphrase too" not in environ
        assert b"DSL_CONSOLE_PASSPHRASE=" not in environ
    finally:
        ours.close()  # the helper ends on the closed pipe
        helpers.end(process, 5)
    # This process's own reads still find it.
    assert os.environ[ENV_PASSPHRASE] == "fictional passphrase in the environment"
