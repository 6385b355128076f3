"""Root's commands on an installed office's data leave it to the hub's user (`antrian.data_owner`).

The guides have the IT officer type `sudo antrian users add`, `sudo antrian backup` and
`sudo antrian restore`. Run as root these used to leave root-owned files in the data folder
(the restored database, a backup), which the hub, running as its own user, could no longer
write or rotate. `nobody` stands in for the `antrian` user that `antrian install` makes.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kit.process import antrian_cli

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="only root can give files away")

NOBODY = pwd.getpwnam("nobody") if os.name == "posix" else None


@pytest.fixture
def office() -> Iterator[Path]:
    """An installed office's layout: config root:<hub group> 0640, data owned by the hub user.
    In a folder of its own that the hub user may enter (pytest's own is root-only)."""
    assert NOBODY is not None
    root = Path(tempfile.mkdtemp(prefix="antrian-owner-"))
    try:
        root.chmod(0o755)
        data = root / "data"
        data.mkdir(mode=0o750)
        os.chown(data, NOBODY.pw_uid, NOBODY.pw_gid)
        config = root / "antrian.toml"
        text = f'database = "{data / "antrian.db"}"\n[backup]\nfolder = "{data / "backup"}"\n'
        config.write_text(text, encoding="utf-8")
        os.chown(config, 0, NOBODY.pw_gid)
        config.chmod(0o640)
        yield config
    finally:
        shutil.rmtree(root)


def owner(path: Path) -> int:
    return path.stat().st_uid


def with_password(password: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`antrian ARGS` reading a password on stdin (`users add --password-stdin`)."""
    return subprocess.run(
        [sys.executable, "-m", "antrian.cli", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_root_commands_on_the_office_data_leave_every_file_to_the_hub_user(office: Path) -> None:
    assert NOBODY is not None
    data = office.parent / "data"
    add = with_password(
        "admin-pass-123", "users", "add", "ani", "--role", "admin", "--password-stdin", "-c", str(office)
    )
    assert add.returncode == 0, add.stdout + add.stderr
    assert "nobody" in add.stderr  # it says whose identity it took
    assert owner(data / "antrian.db") == NOBODY.pw_uid

    made = antrian_cli("backup", "-c", str(office), cwd=office.parent)
    assert made.returncode == 0, made.stdout + made.stderr
    backups = sorted((data / "backup").glob("*.db"))
    assert backups
    assert all(owner(p) == NOBODY.pw_uid for p in backups)
    assert owner(data / "backup") == NOBODY.pw_uid

    done = antrian_cli("restore", str(backups[-1]), "-c", str(office), cwd=office.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name: owner(p) for p in data.iterdir() if p.is_file()} == {
        p.name: NOBODY.pw_uid for p in data.iterdir() if p.is_file()
    }
    # and the hub's user can write the restored database
    with sqlite3.connect(data / "antrian.db") as db:
        assert db.execute("SELECT count(*) FROM web_users").fetchone() == (1,)


def test_restoring_a_backup_the_hub_user_cannot_read_says_so_and_changes_nothing(office: Path) -> None:
    data = office.parent / "data"
    assert (
        with_password(
            "admin-pass-123", "users", "add", "ani", "--password-stdin", "-c", str(office)
        ).returncode
        == 0
    )
    before = (data / "antrian.db").read_bytes()
    hidden = Path(tempfile.mkdtemp(prefix="antrian-root-only-"))  # 0700 root, like /root
    try:
        made = antrian_cli("backup", "-c", str(office), cwd=office.parent)
        assert made.returncode == 0, made.stderr
        shutil.copy(next((data / "backup").glob("*.db")), hidden / "copy.db")
        done = antrian_cli("restore", str(hidden / "copy.db"), "-c", str(office), cwd=office.parent)
    finally:
        shutil.rmtree(hidden)
    assert done.returncode == 2
    assert "tidak bisa dibaca oleh pengguna nobody" in done.stderr
    assert "Traceback" not in done.stderr
    assert (data / "antrian.db").read_bytes() == before


def test_a_command_on_data_root_owns_stays_root(tmp_path: Path) -> None:
    """An office run by hand as root (its data root's): nothing is switched, nothing said."""
    config = tmp_path / "antrian.toml"
    config.write_text(f'database = "{tmp_path / "antrian.db"}"\n', encoding="utf-8")
    done = with_password("pass-word-123", "users", "add", "budi", "--password-stdin", "-c", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nobody" not in done.stderr
    assert "antrian:" not in done.stderr
    assert owner(tmp_path / "antrian.db") == 0
