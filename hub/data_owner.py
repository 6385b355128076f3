"""Commands run by root on an installed office's data become the data's owner first.

`antrian install` gives the office's data (`/var/lib/antrian`: the database, its backups) to
the system user `antrian`, which the hub runs as. An IT officer types `sudo antrian users add`,
`sudo antrian backup` or `sudo antrian restore` as the guides show. Run as root, SQLite and
the backup code would create root-owned files there (the restored database, a backup, the
write-ahead log), and the hub could then no longer write its own database or rotate its
backups. So a command that opens the office's database first takes the identity of the user
who owns the database's folder (its groups too, so the config it reads stays readable), and
every file it makes belongs to the hub. Nothing changes for a non-root user or for data that
root itself owns (a test folder, an office run by hand).
"""

from __future__ import annotations

import os
import pwd
from pathlib import Path

from antrian.config import Config


def become_data_owner(cfg: Config) -> str | None:
    """Switch this process to the owner of the database's folder when root runs it.

    Returns the user's name when it switched, else None. Raises OSError when the switch is
    refused by the system (the command must not go on as root then)."""
    if os.name != "posix" or os.geteuid() != 0:
        return None
    try:
        owner = Path(cfg.database).resolve().parent.stat().st_uid
    except OSError:  # no folder yet: the command says so itself
        return None
    if owner == 0:
        return None
    try:
        user = pwd.getpwuid(owner)
    except KeyError:  # a folder of a uid with no account: leave it to root
        return None
    os.setgroups(os.getgrouplist(user.pw_name, user.pw_gid))
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)
    os.environ["HOME"] = user.pw_dir
    return user.pw_name
