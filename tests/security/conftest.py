"""Helpers for the security tests: the installed command as a subprocess, raw SQLCipher access
(as an attacker holding the key would have), and byte scans for plaintext."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlcipher3 import dbapi2 as sqlcipher

from dsl_console.config import Config
from dsl_console.services.casebook import import_cases
from dsl_console.services.session import Session
from dsl_console.services.transfer import read_document
from dsl_console.store import keyslots
from dsl_console.store.signing import Signer
from tests.conftest import NOW, PASSPHRASE, USER, case_json, document

CHILD_NAME = "Ada Example"
SUMMARY = "Referral declined as below threshold; school disagrees."
REAL_PASSPHRASE = "fictional real-cost passphrase"


def cli_command() -> list[str]:
    """The installed `dsl-console` of the interpreter running the tests (the venv's in CI)."""
    script = Path(sys.executable).with_name("dsl-console")
    return [str(script)] if script.exists() else [sys.executable, "-m", "dsl_console"]


def run_cli(
    *args: str,
    user: str | None = USER,
    passphrase: str | None = REAL_PASSPHRASE,
    new_passphrase: str | None = None,
    home: Path,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed command with only the variables given, no terminal, no stdin."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "LANG": "C.UTF-8",
    }
    if user is not None:
        env["DSL_CONSOLE_USER"] = user
    if passphrase is not None:
        env["DSL_CONSOLE_PASSPHRASE"] = passphrase
    if new_passphrase is not None:
        env["DSL_CONSOLE_NEW_PASSPHRASE"] = new_passphrase
    env.update(extra_env or {})
    return subprocess.run(
        [*cli_command(), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        start_new_session=True,  # no controlling terminal: a prompt could not hang the test
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed command, checked to be just that."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("dsl-console: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def add_fictional_cases(session: Session, *refs: str, **overrides: object) -> None:
    """Import fictional cases (Ada Example, the summary above) through the casebook."""
    data = document(
        *(case_json(ref, opened_at="2026-11-16T09:30:00+00:00", **overrides) for ref in refs)
    )
    cases = read_document(data.encode("utf-8"), session.registry, NOW, session.calendar)
    import_cases(session, cases)


def audit_verify(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """`dsl-console audit verify` in this process: its exit status and what it printed."""
    from dsl_console.cli import main

    capsys.readouterr()
    code = main(["audit", "verify"])
    return code, capsys.readouterr().out


def database_key(db_path: Path, user: str = USER, passphrase: str = PASSPHRASE) -> bytes:
    """The raw database key, unwrapped from a slot (what any holder of a passphrase can get)."""
    return keyslots.unwrap(keyslots.read_slots(keyslots.keys_path(db_path)), user, passphrase)


def raw_connect(db_path: Path, key: bytes) -> sqlcipher.Connection:
    """A connection outside the console, as an attacker with the key and the file would open."""
    conn = sqlcipher.connect(str(db_path), isolation_level=None)
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def rebuild_trail(conn: sqlcipher.Connection, forger: Ed25519PrivateKey | None = None) -> None:
    """Recompute every entry's hash from the first, as an attacker rewriting the trail would
    (its guards dropped first); with `forger`, also sign every entry with that key of the
    attacker's, and name it in every grant in place of the accounts' own."""
    from dsl_console.store.audit import GENESIS, entry_hash
    from dsl_console.store.signing import Signer, public_hex

    prev = GENESIS
    rows = conn.execute(
        "SELECT id, at, user, action, ref, detail, signer FROM audit ORDER BY id"
    ).fetchall()
    for entry_id, at, user, action, ref, detail, signer in rows:
        if forger is not None:
            forged = public_hex(forger)
            detail = re.sub(r"signing key [0-9a-f]{64}", f"signing key {forged}", detail)
            if action == "signing-key":
                detail = forged
        digest = entry_hash(entry_id, at, user, action, ref, detail, prev)
        signature = Signer(signer or user, forger).sign(digest) if forger is not None else None
        conn.execute(
            "UPDATE audit SET detail = ?, prev_hash = ?, hash = ?, "
            "signature = coalesce(?, signature) WHERE id = ?",
            (detail, prev, digest, signature, entry_id),
        )
        prev = digest


def append_entry(
    conn: sqlcipher.Connection,
    user: str,
    action: str,
    ref: str = "",
    detail: str = "",
    *,
    signer: Signer | None = None,
    at: str = "2026-11-20 10:00:00.000000",
) -> int:
    """Append a correctly chained entry, as anyone holding the database key can; signed with
    `signer`'s key (under its name) if given. Its id."""
    from dsl_console.store.audit import entry_hash

    last_id, prev = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    digest = entry_hash(last_id + 1, at, user, action, ref, detail, prev)
    conn.execute(
        "INSERT INTO audit (id, at, user, action, ref, detail, prev_hash, hash, signer, "
        "signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            last_id + 1,
            at,
            user,
            action,
            ref,
            detail,
            prev,
            digest,
            signer.name if signer else "",
            signer.sign(digest) if signer else "",
        ),
    )
    return int(last_id + 1)


def plaintexts(*texts: str) -> list[bytes]:
    """The byte forms a text could take on disk (SQLite stores UTF-8 or UTF-16)."""
    found: list[bytes] = []
    for text in texts:
        found += [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    return found


def leaks(path: Path, needles: list[bytes]) -> list[bytes]:
    """Which of the needles appear in the file's bytes."""
    data = path.read_bytes()
    return [n for n in needles if n in data]


def flip_middle(path: Path, count: int = 64) -> None:
    """Damage a file the way a failing disk would: flipped bytes in the middle."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.fixture
def open_session_on(credentials):  # type: ignore[no-untyped-def]
    """Open sessions on any database path with the test credentials and clock."""
    from dsl_console.services.session import open_session

    opened: list[Session] = []

    def make(path: Path, creds=None) -> Session:  # type: ignore[no-untyped-def]
        session = open_session(path, Config(), creds or credentials, clock=lambda: NOW)
        opened.append(session)
        return session

    yield make
    for session in opened:
        session.close()


@pytest.fixture
def umask_022() -> Iterator[None]:
    """A permissive umask, so a private mode can only come from the code itself."""
    old = os.umask(0o022)
    yield
    os.umask(old)


Maker = Callable[..., Session]
