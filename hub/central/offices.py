"""The centre's broker folder: one account per office, the ingest's account, and the files
Mosquitto runs from (docs/regency.md, "Di pusat").

Like the office's broker folder (`antrian.provision.files`): one registry (`offices.json`,
hashes only) and every file regenerated whole from it, written atomically; a command that is
refused (a bad slug, one office too many, an unreadable registry) writes nothing. Each office
gets `secrets/office-<slug>.toml` to carry to the office, where `antrian devices bridge
--secret` turns it into the bridge.

The ACL is the link's security boundary: an office may write only under `antrian/<slug>/`
and read only its own `central/resend`; the ingest (`antrian-central`) reads every office and
writes only `central/resend`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from antrian.contract import Topics, is_slug
from antrian.provision.files import (
    ProvisionError,
    _own,
    _toml_str,
    _write,
    central_user,
    check_host,
    check_path,
    check_port,
    hash_password,
    new_password,
)

#: Most offices one centre's folder holds (a province has several hundred kecamatan).
MAX_OFFICES: Final = 1000
#: The central ingest's account: reads every office, writes only resend asks.
INGEST_USER: Final = "antrian-central"
INGEST_ACCOUNT_FILE: Final = "central-mqtt.toml"
REGISTRY: Final = "offices.json"
REGISTRY_VERSION: Final = 1


@dataclass
class CentralSettings:
    """Where the central broker listens, and the name offices reach it by."""

    host: str = "localhost"
    port: int = 1883
    bind: str = ""

    def check(self) -> None:
        check_host(self.host, "--host")
        check_port(self.port, "--port")
        if self.bind:
            check_host(self.bind, "--bind")


@dataclass
class CentralFolder:
    """The registry of the centre's accounts and the files generated from it."""

    path: Path
    settings: CentralSettings = field(default_factory=CentralSettings)
    ingest_hash: str = ""
    offices: dict[str, str] = field(default_factory=dict)  # slug -> $7$ hash
    _fresh: dict[str, str] = field(default_factory=dict)  # user -> new plain password

    @classmethod
    def open(cls, path: str | Path) -> CentralFolder:
        folder = cls(Path(path))
        registry = folder.path / REGISTRY
        if registry.exists():
            try:
                raw = json.loads(registry.read_text(encoding="utf-8"))
                folder.settings = CentralSettings(**raw["settings"])
                folder.ingest_hash = str(raw["ingest"])
                folder.offices = {str(k): str(v) for k, v in raw["offices"].items()}
                folder.settings.check()
                bad = [s for s in folder.offices if not is_slug(s)]
                if bad or len(folder.offices) > MAX_OFFICES:
                    raise ValueError(f"bad offices {bad[:3]}")
            except (OSError, ValueError, KeyError, TypeError, ProvisionError) as exc:
                raise ProvisionError(f"{registry}: unreadable registry ({exc})") from None
        return folder

    def configure(self, host: str | None = None, port: int | None = None, bind: str | None = None) -> None:
        """Change where the broker listens (None: unchanged); makes the ingest's account once."""
        s = self.settings
        self.settings = CentralSettings(
            host if host is not None else s.host,
            port if port is not None else s.port,
            bind if bind is not None else s.bind,
        )
        self.settings.check()
        check_path(str(self.path.resolve()), "--dir")
        if not self.ingest_hash:
            self._fresh[INGEST_USER] = new_password()
            self.ingest_hash = hash_password(self._fresh[INGEST_USER])

    def add(self, slug: str) -> None:
        """Register an office (its password goes to `secrets/office-<slug>.toml` at `write`)."""
        if not is_slug(slug):
            raise ProvisionError(f"office {slug!r}: use lower-case letters, digits, - or _ (at most 32)")
        if slug in self.offices:
            raise ProvisionError(f"office {slug} exists already (remove it first to give it a new password)")
        if len(self.offices) >= MAX_OFFICES:
            raise ProvisionError(f"at most {MAX_OFFICES} offices in one centre's folder")
        password = new_password()
        self.offices[slug] = hash_password(password)
        self._fresh[central_user(slug)] = password

    def remove(self, slug: str) -> None:
        """Forget an office: its account and ACL go with the next `write`."""
        if slug not in self.offices:
            raise ProvisionError(f"no office {slug}")
        del self.offices[slug]

    # -- generated files ----------------------------------------------------------------------

    def write(self) -> list[Path]:
        """Regenerate every file; new passwords into `secrets/`. Returns what was written."""
        self.path.mkdir(parents=True, exist_ok=True)
        os.chmod(self.path, 0o755)  # noqa: S103 - the broker user reads passwd, acl, conf
        data = self.path / "data"
        data.mkdir(exist_ok=True)
        _own(data, 0o700, broker=True)  # the broker's persistence file: its session queues
        secrets = self.path / "secrets"
        secrets.mkdir(exist_ok=True)
        os.chmod(secrets, 0o700)
        written: list[Path] = []
        fresh, self._fresh = self._fresh, {}
        for user, password in fresh.items():
            name = INGEST_ACCOUNT_FILE if user == INGEST_USER else f"{user}.toml"
            written.append(_write(secrets / name, self.secret_text(user, password), 0o600))
        for slug in set(self._secret_slugs()) - set(self.offices):
            (secrets / f"{central_user(slug)}.toml").unlink(missing_ok=True)
        written.append(_write(self.path / "passwd", self.passwd_text(), 0o600, broker=True))
        written.append(_write(self.path / "acl", self.acl_text(), 0o600, broker=True))
        written.append(_write(self.path / "mosquitto.conf", self.mosquitto_conf(), 0o644, broker=True))
        body = {
            "version": REGISTRY_VERSION,
            "settings": {"host": self.settings.host, "port": self.settings.port, "bind": self.settings.bind},
            "ingest": self.ingest_hash,
            "offices": dict(sorted(self.offices.items())),
        }
        written.append(_write(self.path / REGISTRY, json.dumps(body, indent=2) + "\n", 0o600))
        return written

    def _secret_slugs(self) -> list[str]:
        folder = self.path / "secrets"
        return [p.stem.removeprefix("office-") for p in folder.glob("office-*.toml")]

    def secret_text(self, user: str, password: str) -> str:
        """A secret file: for an office, what `antrian devices bridge --secret` reads."""
        s = self.settings
        who = "the central ingest" if user == INGEST_USER else f"office {user.removeprefix('office-')}"
        return (
            f"# antrian: akun broker pusat untuk {who}. Rahasia: salin lewat jalur aman.\n"
            f"# The central broker's account of {who}. Secret: hand it over safely.\n"
            f"username = {_toml_str(user)}\n"
            f"password = {_toml_str(password)}\n"
            f"host = {_toml_str(s.host)}\n"
            f"port = {int(s.port)}\n"
        )

    def passwd_text(self) -> str:
        lines = [f"{INGEST_USER}:{self.ingest_hash}"]
        lines += [f"{central_user(slug)}:{h}" for slug, h in sorted(self.offices.items())]
        return "\n".join(lines) + "\n"

    def acl_text(self) -> str:
        """Per the link's contract: an office writes only its own tree, reads only its asks."""
        every = Topics("+")
        out = [
            "# antrian: ACL broker pusat. Dibuat `antrian central offices`; jangan disunting.",
            "# Generated by `antrian central offices`; do not edit: changes are overwritten.",
            "",
            "# The central ingest: reads every office, writes only resend asks.",
            f"user {INGEST_USER}",
            f"topic read {every.base}/#",
            f"topic write {every.central_resend}",
        ]
        for slug in sorted(self.offices):
            tp = Topics(slug)
            out += [
                "",
                f"user {central_user(slug)}",
                f"topic write {tp.base}/#",
                f"topic read {tp.central_resend}",
            ]
        return "\n".join(out) + "\n"

    def mosquitto_conf(self) -> str:
        s = self.settings
        d = self.path.resolve()
        bind = f" {s.bind}" if s.bind else ""
        lines = [
            "# antrian: broker pusat kabupaten. Dibuat `antrian central offices`, jangan disunting.",
            "# Generated by `antrian central offices`: regenerate instead of editing.",
            "",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {d}/passwd",
            f"acl_file {d}/acl",
            "# Small QoS 1 messages: Nagle's algorithm would hold each one 40-90 ms.",
            "set_tcp_nodelay true",
            "# Persistent: each office's bridge session (its subscription to its resend asks)",
            "# and the ingest's queued messages survive a restart of this broker.",
            "persistence true",
            f"persistence_location {d}/data/",
            "autosave_interval 60",
            "# An ingest that is away may fall behind by a morning of a whole regency.",
            "max_queued_messages 100000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "",
            "# use_username_as_clientid: nobody can take over an office's bridge session.",
            f"listener {s.port}{bind}",
            "use_username_as_clientid true",
            "",
        ]
        return "\n".join(lines)
