"""Making a machine an office hub (`antrian install`) and checking it (`antrian doctor`).

`antrian.install.layout` names the places an installed office lives in (`/etc/antrian`,
`/var/lib/antrian`, the broker folder under `/etc/mosquitto`) and writes the systemd units;
`antrian.install.machine` makes them, idempotently, as root or into a throwaway root
(`--prefix`); `antrian.install.doctor` is the list of checks of a running installation, one
small function each; `antrian.install.cli` adds the two commands. The TV kiosk browser's
launcher and units are package data in `tv/`, so an installed wheel has them.
The guide is docs/pasang.md.
"""
