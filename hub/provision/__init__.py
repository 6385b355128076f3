"""Locking the broker down: one MQTT account per device, ACLs, TLS, and the files that say so.

`antrian devices add/remove/list` keeps a small registry (`registry.json`) in a broker folder
and regenerates everything else from it each time, so the files can never drift apart:

* `passwd`: Mosquitto password file (PBKDF2-SHA512 `$7$` hashes, the format of
  `mosquitto_passwd`), one account per device, plus the hub and Home Assistant;
* `acl`: what each account may read and write (a device writes only its own requests,
  availability and info; the hub alone writes a device's display, play, set and response);
* `mosquitto.conf`: anonymous off, `set_tcp_nodelay true`, client id = user name,
  `max_packet_size` (a 100 MB payload disconnects its sender), an optional TLS listener with a
  local CA;
* `devices/{id}.json`: the device's own config file, for flashing, with the topics of its role
  resolved from the contract's templates (`topics`; the ACL is built from the same templates;
  its JSON Schema: `antrian devices schema`, `device_config`);
* `secrets/hub-mqtt.toml`: the hub's `[mqtt]` section, with the read-only account of its web
  topic monitor (`monitor_username`, `monitor_password`);
* `secrets/doctor-mqtt.toml`: the read-only account of `antrian doctor` (`username`,
  `password`), so that checking a running office takes no other client's session;
* `hub-devices.toml`: the `[[devices]]` tables the hub needs (also written into a marked block
  of the hub's `antrian.toml` when one is given).

The plain-text password of an account exists only in the file handed to its owner (the device
config, `secrets/hub-mqtt.toml`, `secrets/doctor-mqtt.toml`, `secrets/homeassistant.json`); the
registry keeps hashes.
"""

from antrian.provision.files import (
    DOCTOR_ACCOUNT_FILE,
    DOCTOR_USER,
    HA_USER,
    HUB_USER,
    MONITOR_USER,
    BrokerFolder,
    DeviceEntry,
    ProvisionError,
    hash_password,
    verify_password,
)

__all__ = [
    "DOCTOR_ACCOUNT_FILE",
    "DOCTOR_USER",
    "HA_USER",
    "HUB_USER",
    "MONITOR_USER",
    "BrokerFolder",
    "DeviceEntry",
    "ProvisionError",
    "hash_password",
    "verify_password",
]
