"""Where an installed office lives, and the systemd units that run it.

The places are the ones an IT officer finds in any Debian service: configuration and secrets
in `/etc/antrian` (root may change them, the hub may only read them), the hub's data in
`/var/lib/antrian` (its database, clip cache and backups, written by the hub's own user), the
broker's files in `/etc/mosquitto/antrian` and Mosquitto's include in `conf.d`. Mosquitto
drops to its own user before it reads the password and ACL files, and that user may not enter
`/etc/antrian` (0750), so the broker folder is not under it.

Mosquitto reads `include_dir` only in its main file (an `include_dir` inside an included file
is skipped without a word), so the include in `conf.d` is a link to the generated
`mosquitto.conf` itself, not a second `include_dir`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Final

from antrian.lock import EXIT_ANOTHER_HUB
from antrian.migrations import EXIT_SCHEMA
from antrian.provision.files import DOCTOR_ACCOUNT_FILE

ETC: Final = PurePosixPath("/etc/antrian")
CONFIG: Final = ETC / "antrian.toml"
SECRETS: Final = ETC / "secrets"
DATA: Final = PurePosixPath("/var/lib/antrian")
DATABASE: Final = DATA / "antrian.db"
CLIP_CACHE: Final = DATA / "tts_cache"
BACKUPS: Final = DATA / "backup"
#: The folder `antrian devices --dir` writes for this broker (registry, passwd, acl, config).
BROKER: Final = PurePosixPath("/etc/mosquitto/antrian")
MOSQUITTO_MAIN: Final = PurePosixPath("/etc/mosquitto/mosquitto.conf")
MOSQUITTO_CONF_D: Final = PurePosixPath("/etc/mosquitto/conf.d")
MOSQUITTO_INCLUDE: Final = MOSQUITTO_CONF_D / "antrian.conf"
#: The include is a relative link, so that it also resolves inside a throwaway root.
MOSQUITTO_INCLUDE_TARGET: Final = PurePosixPath("../antrian/mosquitto.conf")
SYSTEM_UNITS: Final = PurePosixPath("/etc/systemd/system")
#: The TV browser runs in the desktop session of the user who sits at the TV: a user unit,
#: offered to every user from here (`systemctl --user enable antrian-tv`).
USER_UNITS: Final = PurePosixPath("/etc/systemd/user")
TV_LAUNCHER: Final = PurePosixPath("/usr/local/bin/antrian-tv")
#: The speaker node on the hub's PC: its own broker account (never the hub's: the broker
#: takes the client id from the user name) and password, written by the officer.
SPEAKER_ENV: Final = SECRETS / "speaker.env"
#: `antrian doctor`'s own read-only broker account, copied from the broker folder's secrets:
#: where the doctor looks first (beside the configuration), so it takes no client's session.
DOCTOR_ACCOUNT: Final = SECRETS / DOCTOR_ACCOUNT_FILE

HUB_UNIT: Final = "antrian-hub.service"
SPEAKER_UNIT: Final = "antrian-speaker.service"
TV_UNIT: Final = "antrian-tv.service"

#: Where the hub may write under `ProtectSystem=strict`: its data, a USB disk for backups
#: (`[backup] folder`), gammu-smsd's spool for SMS. A `-` path may be missing.
HUB_WRITES: Final = (str(DATA), "-/media", "-/mnt", "-/var/spool/gammu")


def tv_file(name: str) -> str:
    """A file of the TV kiosk browser (launcher, user unit, env, desktop entry), as shipped."""
    return resources.files("antrian.install").joinpath("tv", name).read_text(encoding="utf-8")


@dataclass(frozen=True)
class Units:
    """The unit files of one installation: `antrian` is the installed command's argv."""

    antrian: tuple[str, ...]
    user: str
    tv_url: str

    def _exec(self, *args: str) -> str:
        return shlex.join([*self.antrian, *args])

    def hub(self) -> str:
        """The hub: restarted whatever ends it, except the refusal of a second hub (status 3)
        and of a database it cannot use (status 4), which would only be refused again. The
        hardening leaves it what it needs: its data, a USB backup disk, the ticket printer
        (`lp`), the SMS spool."""
        return "\n".join(
            [
                "# antrian: the office hub. Written by `antrian install`; run it again after an",
                "# upgrade rather than editing this file (see docs/pasang.md).",
                "[Unit]",
                "Description=antrian: office queue hub",
                "After=network-online.target mosquitto.service",
                "Wants=network-online.target",
                "",
                "[Service]",
                "Type=simple",
                f"User={self.user}",
                f"Group={self.user}",
                "SupplementaryGroups=lp",
                f"ExecStart={self._exec('run', '-c', str(CONFIG))}",
                "Restart=always",
                "RestartSec=2",
                f"RestartPreventExitStatus={EXIT_ANOTHER_HUB} {EXIT_SCHEMA}",
                "UMask=0027",
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                f"ReadWritePaths={' '.join(HUB_WRITES)}",
                "ProtectHome=yes",
                "PrivateTmp=yes",
                "ProtectKernelTunables=yes",
                "ProtectKernelModules=yes",
                "ProtectControlGroups=yes",
                "RestrictSUIDSGID=yes",
                "LockPersonality=yes",
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "",
            ]
        )

    def speaker(self) -> str:
        """The speaker node on the hub's PC; it waits for its account in `speaker.env`."""
        return "\n".join(
            [
                "# antrian: the speaker node on this PC (calls on the loudspeaker). Written by",
                "# `antrian install`. It starts once its broker account is in",
                f"# {SPEAKER_ENV}:",
                "#   ANTRIAN_SPEAKER_ID=speaker-1",
                "#   ANTRIAN_MQTT_PASSWORD=<the password in devices/speaker-1.json>",
                "[Unit]",
                "Description=antrian: speaker node",
                "After=network-online.target sound.target antrian-hub.service",
                "Wants=network-online.target",
                f"ConditionPathExists={SPEAKER_ENV}",
                "",
                "[Service]",
                "Type=simple",
                f"User={self.user}",
                f"Group={self.user}",
                "SupplementaryGroups=audio",
                f"EnvironmentFile={SPEAKER_ENV}",
                "ExecStart="
                + self._exec("speaker", "-c", str(CONFIG))
                + " --id ${ANTRIAN_SPEAKER_ID} --username ${ANTRIAN_SPEAKER_ID}",
                "Restart=always",
                "RestartSec=2",
                "NoNewPrivileges=yes",
                "ProtectSystem=strict",
                f"ReadWritePaths={DATA}",
                "ProtectHome=yes",
                "PrivateTmp=yes",
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                "",
            ]
        )

    def tv(self) -> str:
        """The shipped TV user unit, starting the launcher installed for every user, on this
        hub's `/tv` page unless the user's `~/.config/antrian-tv.env` names another."""
        out = [
            "# antrian: the waiting-room TV page (Chromium kiosk). Written by `antrian install`",
            "# for every user; enable it as the user logged in at the TV:",
            "#   systemctl --user enable --now antrian-tv",
            "# ANTRIAN_TV_URL below is this hub's page; ~/.config/antrian-tv.env may name another.",
        ]
        shipped = tv_file(TV_UNIT).splitlines()
        start = next(i for i, line in enumerate(shipped) if not line.startswith("#"))
        for line in shipped[start:]:
            if line.startswith("ExecStart="):
                out.append(f"Environment=ANTRIAN_TV_URL={self.tv_url}")
                line = f"ExecStart={TV_LAUNCHER}"
            out.append(line)
        return "\n".join(out) + "\n"


def under(prefix: Path, path: PurePosixPath) -> Path:
    """`path` of the installed machine, inside `prefix` (`/` for the machine itself)."""
    return prefix / path.relative_to("/")
