"""The boot half of over-the-air updates: finish a swap, count trial boots, roll back.

`main.py` calls `boot()` before it imports anything else of the firmware, so an update that
was downloaded (by `ota.py`) is put in place before its modules load, and one that cannot
keep the board running is taken out again. This file and `main.py` are never replaced over
the air: they are the part that must still work when a new firmware does not. Change them by
USB only.

The state lives in `ota.json`, replaced whole (`os.rename` of a temporary file) at each
step, so a power cut leaves the old state or the new one:

* `swap`: the new files are complete and checked in `ota_new/`; each file is moved, one at a
  time, from the root to `ota_old/` and from `ota_new/` to the root. A cut in the middle is
  finished at the next boot (a name already moved is skipped).
* `trial`: the new firmware runs, but has not yet reached the broker. Each boot counts; after
  `TRIES` boots without `confirm()` (a crash at import, a watchdog, no broker for 15 minutes
  each time) the files of `ota_old/` are moved back and `failed` names the version that did
  not run.
* `ok`: the running version (`version`), confirmed by the firmware once it reached the
  broker.
"""

import json
import os

STATE = "ota.json"
NEW = "ota_new"
OLD = "ota_old"
#: Boots a new version gets to reach the broker before it is rolled back.
TRIES = 3


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def read():
    """The update state (`{}` on a board flashed by USB that never had an update)."""
    try:
        with open(STATE) as f:
            st = json.load(f)
        return st if isinstance(st, dict) else {}
    except (OSError, ValueError):
        return {}


def write(st):
    """Replace the state whole: a cut leaves the old file or the new one."""
    with open(STATE + ".tmp", "w") as f:
        json.dump(st, f)
    os.rename(STATE + ".tmp", STATE)


def _put(src, dst):
    _remove(dst)
    os.rename(src, dst)


def _swap(st, log):
    for name in st.get("files", ()):
        new = NEW + "/" + name
        if not _exists(new):
            continue  # moved before a power cut
        if _exists(name) and not _exists(OLD + "/" + name):
            os.rename(name, OLD + "/" + name)
        _put(new, name)
    st["state"] = "trial"
    st["boots"] = 0
    write(st)
    log("ota: installed", st.get("version"))


def _roll_back(st, log):
    for name in st.get("files", ()):
        old = OLD + "/" + name
        if _exists(old):
            _put(old, name)
        elif name in st.get("added", ()):
            _remove(name)  # new in the failed version: not part of the old one
    log("ota: rolled back from", st.get("version"), "to", st.get("prev"))
    write({"state": "ok", "version": st.get("prev"), "failed": st.get("version")})


def boot(log=print):
    """Run first at every boot: finish a swap, count a trial boot, roll back after TRIES."""
    try:
        st = read()
        if st.get("state") == "swap":
            _swap(st, log)
        if st.get("state") == "trial":
            st["boots"] = st.get("boots", 0) + 1
            if st["boots"] > TRIES:
                _roll_back(st, log)
            else:
                write(st)
    except Exception as exc:  # noqa: BLE001 - a broken state file must not stop the board
        log("ota: boot failed", repr(exc))


def confirm():
    """The running version reached the broker: keep it. Returns the state."""
    st = read()
    if st.get("state") == "trial":
        st = {"state": "ok", "version": st.get("version"), "prev": st.get("prev")}
        write(st)
    return st


def failed(exc):
    """The firmware could not even be imported: print why and reset (a trial boot counted)."""
    import sys
    import time

    import machine

    sys.print_exception(exc)
    print("main: reset")
    time.sleep_ms(1000)
    machine.reset()
