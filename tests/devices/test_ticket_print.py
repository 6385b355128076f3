"""The printed ticket, decoded from its ESC/POS bytes, line by line: the hub's printer (CPython)
and the kiosk firmware's `escpos` on the real MicroPython interpreter print the same lines, the
number as large as the paper takes, and the words a citizen needs to wait without asking."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from escpos_decode import Line, Ticket, decode
from harness import MICROPYTHON

from antrian.i18n import device_words
from antrian.printer import ticket_bytes
from antrian.shared import FOLDER as SHARED

#: Dots a line at each paper width, and the dots of one character of the normal font (12x24).
DOTS = {58: 384, 80: 576}
CHAR_DOTS = 12

#: A `take_ticket` answer as the hub gives it: one time for the call, served today, no
#: completion text, no complaint contact; each case below changes what it is about.
BASE: dict[str, Any] = {
    "office": "Kantor Kecamatan Contoh",
    "service_name": "Administrasi kependudukan",
    "ticket": "A-012",
    "priority": False,
    "issued_at": "2026-11-30T08:40:12+07:00",
    "ahead": 7,
    "estimated_wait_min": 75,
    "estimated_call_at": "09.55",
    "estimated_call_from": None,
    "estimated_call_to": None,
    "served_today": "yes",
    "completion": None,
    "status_url": "http://192.168.1.10:8080/t/abc",
    "complaint_contact": None,
    "survey_url": None,
}
HEAD = ["Kantor Kecamatan Contoh", "Administrasi kependudukan", "Nomor antrean", "A-012"]
WHEN = ["Senin, 30 November 2026", "08.40 WIB", "Antrean di depan Anda: 7"]
CALL = ["Perkiraan dipanggil", "sekitar pukul 09.55 WIB"]
WAIT = ["Harap menunggu panggilan", "pantau layar", "Pindai untuk melihat antrean"]
END = ["Berlaku hari ini"]

#: case -> (paper, changes to BASE, the ticket's lines exactly)
CASES: dict[str, tuple[int, dict[str, Any], list[str]]] = {
    "estimate": (58, {}, HEAD + WHEN + CALL + WAIT + END),
    "window": (
        58,
        {"estimated_call_from": "09.40", "estimated_call_to": "10.05"},
        HEAD + WHEN + ["Perkiraan dipanggil", "sekitar pukul 09.40 - 10.05 WIB"] + WAIT + END,
    ),
    "not-served-today": (
        58,
        {"served_today": "no", "estimated_call_at": "16.30"},
        HEAD + WHEN + ["Kemungkinan tidak terlayani", "hari ini"] + WAIT + END,
    ),
    "priority": (58, {"priority": True}, [*HEAD, "PRIORITAS", *WHEN, *CALL, *WAIT, *END]),
    "completion-duration": (
        58,
        {"completion": "1 hari kerja"},
        HEAD + WHEN + CALL + ["Perkiraan selesai: 1 hari kerja"] + WAIT + END,
    ),
    "completion-range": (
        58,
        {"completion": "1-5 hari kerja"},
        HEAD + WHEN + CALL + ["Perkiraan selesai:", "1-5 hari kerja"] + WAIT + END,
    ),
    "completion-sentence": (
        58,
        {"completion": "selesai hari ini"},
        HEAD + WHEN + CALL + ["Selesai hari ini"] + WAIT + END,
    ),
    "complaint-contact": (
        58,
        {"complaint_contact": "WA 0812-3456-7890", "survey_url": "http://192.168.1.10:8080/skm"},
        HEAD
        + WHEN
        + CALL
        + WAIT
        + ["Isi survei kepuasan (SKM):", "http://192.168.1.10:8080/skm", "Pengaduan: WA 0812-3456-7890"]
        + END,
    ),
    "80mm": (
        80,
        {"completion": "1 hari kerja", "complaint_contact": "WA 0812-3456-7890"},
        HEAD
        + WHEN
        + [
            "Perkiraan dipanggil sekitar pukul 09.55 WIB",
            "Perkiraan selesai: 1 hari kerja",
            "Harap menunggu panggilan / pantau layar",
            "Pindai untuk melihat antrean",
            "Pengaduan: WA 0812-3456-7890",
        ]
        + END,
    ),
}
#: (paper, number) -> the size the number must print at: the largest that fits one line
SIZES = {(58, "A-012"): 6, (58, "A-1234"): 5, (80, "A-012"): 8, (80, "A-1234"): 8}

#: Prints the hex of `escpos.ticket` for each job of a JSON file: the kiosk board's code path.
MP_SCRIPT = """
import json, sys, escpos
for job in json.load(open(sys.argv[1])):
    print("".join("%02x" % b for b in escpos.ticket(job[0], job[1], False, job[2])))
"""


def jobs() -> list[tuple[dict[str, Any], int]]:
    """Every ticket these tests print: the cases, and each number on each paper."""
    out = [({**BASE, **changes}, paper) for paper, changes, _ in CASES.values()]
    out += [({**BASE, "ticket": code, "priority": True}, paper) for paper, code in SIZES]
    return out


@pytest.fixture(scope="module")
def kiosk_bytes(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The jobs as the kiosk firmware prints them, with the words provisioning writes onto it:
    one MicroPython process with the board's module path (the shared `escpos.py`)."""
    folder: Path = tmp_path_factory.mktemp("mp")
    (folder / "jobs.json").write_text(json.dumps([[t, paper, device_words("id")] for t, paper in jobs()]))
    (folder / "print_jobs.py").write_text(MP_SCRIPT)
    env = dict(os.environ, MICROPYPATH=f"{SHARED}:.frozen")
    out = subprocess.run(
        [str(MICROPYTHON), str(folder / "print_jobs.py"), str(folder / "jobs.json")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=30,
    ).stdout
    return [bytes.fromhex(line) for line in out.split()]


def both(kiosk_bytes: list[bytes], index: int) -> tuple[Ticket, Ticket]:
    """Job `index` from the hub's printer and from the kiosk, each decoded to one cut ticket."""
    t, paper = jobs()[index]
    hub_job = ticket_bytes(t, paper, "id")
    assert kiosk_bytes[index] == hub_job, "the kiosk and the hub print different bytes"
    [hub] = decode(hub_job)
    [kiosk] = decode(kiosk_bytes[index])
    assert hub.cut
    assert kiosk.cut
    return hub, kiosk


@pytest.mark.parametrize("case", list(CASES))
def test_the_hub_and_the_kiosk_print_exactly_these_lines(kiosk_bytes, case):
    paper, _, expected = CASES[case]
    for ticket in both(kiosk_bytes, list(CASES).index(case)):
        assert ticket.texts() == expected
        assert ticket.qr == [BASE["status_url"]]
        cols = DOTS[paper] // CHAR_DOTS
        assert all(len(ln.text) * ln.width * CHAR_DOTS <= DOTS[paper] for ln in ticket.lines), (
            "wider than the paper"
        )
        assert not any("+-" in ln.text or "dalam selesai" in ln.text.lower() for ln in ticket.lines)
        if case == "not-served-today":
            assert all(ticket.find(ln).bold for ln in ("Kemungkinan tidak terlayani", "hari ini"))
        assert all(len(ln) <= cols for ln in expected)


@pytest.mark.parametrize(("paper", "code"), list(SIZES))
def test_the_number_prints_as_large_as_the_paper_takes(kiosk_bytes, paper, code):
    size = SIZES[(paper, code)]
    index = len(CASES) + list(SIZES).index((paper, code))
    for ticket in both(kiosk_bytes, index):
        number = ticket.find(code)
        assert (number.width, number.height, number.bold) == (size, size, True)
        assert len(code) * CHAR_DOTS * size <= DOTS[paper]  # fits one line
        assert size == 8 or len(code) * CHAR_DOTS * (size + 1) > DOTS[paper]  # one more would not
        # the priority mark under it: bold, double, on one line
        mark = ticket.find("PRIORITAS")
        assert (mark.width, mark.height, mark.bold) == (2, 2, True)
        assert ticket.texts().index("PRIORITAS") == ticket.texts().index(code) + 1
        assert ticket.find("Nomor antrean") == Line("Nomor antrean", align=1)
    # GS ! n right before the number: n = (width - 1) << 4 | (height - 1)
    job = ticket_bytes(jobs()[index][0], paper, "id")
    gs = bytes((0x1D, 0x21, (size - 1) << 4 | (size - 1)))
    assert gs + b"\x1b\x45\x01" + code.encode() + b"\n" in job
