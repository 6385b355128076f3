"""The printed ticket's words come from the catalogue (`ticket.` keys): the hub's printer prints
them in the office's language, and a kiosk board gets exactly the words it prints with."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from antrian.i18n import LANGUAGES, device_words, t
from antrian.printer import ticket_bytes
from antrian.shared import escpos

sys.path.insert(0, str(Path(__file__).resolve().parent / "devices"))
from escpos_decode import Ticket, decode  # the decoder the firmware tests use

#: A `take_ticket` response whose ticket prints every word: priority, a call window, a warning
#: that it may not be served today, a completion time, a QR code, the office's survey address
#: and complaint contact; issued on a Sunday in August.
RESPONSE = {
    "office": "Kantor Kecamatan Contoh",
    "service_name": "Administrasi kependudukan",
    "ticket": "A-012",
    "priority": True,
    "issued_at": "2026-08-30T08:40:12+07:00",
    "ahead": 7,
    "estimated_wait_min": 45,
    "estimated_call_from": "09.20",
    "estimated_call_to": "09.45",
    "served_today": "maybe",
    "completion": "1 hari kerja",
    "status_url": "http://hub.lan/t/abc",
    "complaint_contact": "WA 0812-3456-7890",
    "survey_url": "http://hub.lan/skm",
}


def printed(lang: str, **changes: object) -> Ticket:
    [ticket] = decode(ticket_bytes({**RESPONSE, **changes}, 58, lang))
    return ticket


def reading(ticket: Ticket) -> str:
    """The ticket's lines as one text: a long sentence is wrapped over several lines."""
    return " ".join(ticket.texts())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_hubs_printer_prints_the_ticket_in_the_catalogues_words(lang):
    other = "en" if lang == "id" else "id"
    ticket = printed(lang)
    texts, text = ticket.texts(), reading(ticket)
    assert t("ticket.number", lang) in texts
    assert ticket.find(t("ticket.priority", lang)).bold
    assert t("ticket.ahead", lang, n=7) in texts
    assert t("ticket.call_heading", lang) in texts
    assert t("ticket.call_around", lang, when="09.20 - 09.45", zone="WIB") in text
    assert t("ticket.maybe_not_today", lang) in text
    assert t("ticket.completion", lang, completion="1 hari kerja") in text
    assert t("ticket.scan", lang) in text
    assert all(part in texts for part in t("ticket.wait_call", lang).split(" / "))
    assert t("ticket.survey", lang) in texts
    assert "http://hub.lan/skm" in texts
    assert t("ticket.complaint", lang, contact="WA 0812-3456-7890") in texts
    assert t("ticket.valid_today", lang) in texts
    sunday, august = t("ticket.days", lang).split()[6], t("ticket.months", lang).split()[7]
    assert f"{sunday}, 30 {august} 2026" in texts
    assert "08.40 WIB" in texts
    # not one word of the other language
    assert not set(texts) & {
        t(f"ticket.{key}", other) for key in ("number", "priority", "scan", "valid_today")
    }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_estimate_and_the_refusal_slip_read_in_the_catalogues_words(lang):
    assert t("ticket.call_unknown", lang) in reading(printed(lang, estimated_wait_min=None))
    assert t("ticket.call_soon", lang) in reading(printed(lang, estimated_wait_min=2))
    assert t("ticket.not_today", lang) in reading(printed(lang, served_today="no"))
    [slip] = decode(escpos.refusal("Kuota habis", 58, device_words(lang)))
    assert slip.texts()[0] == t("ticket.sorry", lang)
    [again] = decode(escpos.ticket(RESPONSE, 58, True, device_words(lang)))
    assert t("ticket.reprint", lang) in again.texts()


def test_a_ticket_without_words_given_prints_the_catalogues_indonesian():
    """A board whose words were not written yet still prints a whole ticket, in Indonesian."""
    assert escpos.ticket(RESPONSE, 58) == ticket_bytes(RESPONSE, 58, "id")
    assert device_words("id") == escpos.WORDS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_board_is_given_exactly_the_words_it_prints_in_plain_ascii(lang):
    words = device_words(lang)
    assert set(words) == set(escpos.WORDS)
    assert all(escpos.ascii_only(text) == text for text in words.values()), "the printers get ASCII only"
    assert len(words["days"].split()) == 7
    assert len(words["months"].split()) == 12
