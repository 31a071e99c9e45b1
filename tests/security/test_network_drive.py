"""A database on a network file system is refused, with one line that says why and what to do,
and nothing is created: judged by the file system the operating system reports (its answers
faked here, since this machine mounts no NFS or SMB share)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl_console.cli import main
from dsl_console.config import Config
from dsl_console.errors import StoreError
from dsl_console.services.session import Credentials, open_session
from dsl_console.store import filesystems
from tests.conftest import PASSPHRASE, USER, case_json, document


@pytest.mark.parametrize("fstype", ["nfs4", "cifs", "smb3", "fuse.sshfs", "fuse.rclone", "9p"])
def test_a_network_mount_is_refused_and_nothing_is_created(tmp_path, monkeypatch, fstype):
    share = tmp_path / "S-drive"
    share.mkdir()
    table = [("/", "ext4"), (str(share), fstype)]
    monkeypatch.setattr(filesystems, "mount_table", lambda read=None: table)
    db = share / "safeguarding" / "cases.db"
    with pytest.raises(StoreError, match=r"network file system .*SSH"):
        open_session(db, Config(), Credentials(USER, PASSPHRASE), create=True)
    assert list(share.iterdir()) == []


def test_the_command_line_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    share = tmp_path / "mnt" / "school-share"
    share.mkdir(parents=True)
    monkeypatch.setattr(
        filesystems, "mount_table", lambda read=None: [("/", "ext4"), (str(share), "cifs")]
    )
    monkeypatch.setenv("DSL_CONSOLE_USER", USER)
    monkeypatch.setenv("DSL_CONSOLE_PASSPHRASE", PASSPHRASE)
    source = tmp_path / "in.json"
    source.write_text(document(case_json(opened_at="2026-11-16T09:30:00+00:00")))
    assert main(["--db", str(share / "cases.db"), "import", str(source)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cifs" in err and "local disk" in err
    assert not (share / "cases.db").exists() and not (share / "cases.db.keys").exists()


def test_a_local_disk_and_a_folder_beside_a_share_are_accepted(tmp_path):
    share = tmp_path / "share"
    table = [("/", "ext4"), (str(share), "nfs4")]
    # Deepest mount above the folder decides; "share-local" is not inside "share".
    assert filesystems.file_system_of(tmp_path / "share-local", table) == "ext4"
    assert filesystems.file_system_of(share / "a" / "b", table) == "nfs4"
    filesystems.refuse_network_file_system(tmp_path / "cases.db", table=table)


def test_mount_points_with_spaces_are_read_as_the_kernel_writes_them():
    text = "//server/s /mnt/School\\040Share cifs rw 0 0\n/dev/vda / ext4 rw 0 0\n"
    assert filesystems.mount_table(lambda: text) == [
        ("/mnt/School Share", "cifs"),
        ("/", "ext4"),
    ]


def test_a_windows_unc_path_is_refused():
    with pytest.raises(StoreError, match="UNC"):
        filesystems.refuse_network_file_system(
            Path("\\\\server\\safeguarding\\cases.db"), platform="win32"
        )


def test_a_real_fuse_mount_is_refused_by_what_the_kernel_reports(tmp_path):
    # Not faked: a FUSE file system mounted for the test (bindfs, a FUSE driver like sshfs
    # or rclone), told from the mount table the kernel keeps. Needs root and /dev/fuse.
    import os
    import shutil
    import subprocess

    from tests.security.conftest import one_error_line, run_cli

    if os.geteuid() != 0 or not shutil.which("bindfs") or not Path("/dev/fuse").exists():
        pytest.skip("needs root, /dev/fuse and bindfs")
    backing, share = tmp_path / "backing", tmp_path / "S-drive"
    backing.mkdir()
    share.mkdir()
    mounted = subprocess.run(["bindfs", str(backing), str(share)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"this machine cannot mount FUSE: {mounted.stderr!r}")
    try:
        source = tmp_path / "in.json"
        source.write_text(document(case_json(opened_at="2026-11-16T09:30:00+00:00")))
        done = run_cli(
            "--db", str(share / "cases.db"), "import", str(source),
            passphrase=PASSPHRASE, home=tmp_path,
        )  # fmt: skip
        line = one_error_line(done)
        assert "network file system (fuse" in line and "SSH" in line
        assert list(backing.iterdir()) == []
    finally:
        subprocess.run(["fusermount", "-u", str(share)], capture_output=True)
        subprocess.run(["umount", str(share)], capture_output=True)
