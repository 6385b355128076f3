"""The satisfaction survey in Chromium, against the real hub: the exit tablet (a tablet-sized
page), the citizen's status page after the ticket is done (a phone-sized page), what is
refused, and the admin's results with the regulation's recap table.

Each test serves its own tickets at its own counter (call a given ticket, then done), so the
tests share one hub without depending on each other's order.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Any

import pytest
from web_helpers import OFFICER, Browser, T, WebHub, hub_fixture

from tests.kit import Probe

survey_hub = hub_fixture("surveyhub")

TABLET = (1024, 768)
PHONE = (390, 844)


@pytest.fixture
def mqtt(survey_hub: WebHub, probe) -> Probe:
    """The hub's MQTT side, as the call pads use it."""
    client: Probe = probe(survey_hub)
    client.subscribe(T.hub_response("+"))
    return client


def ask(mqtt: Probe, command: str, **fields: Any) -> dict[str, Any]:
    answer = mqtt.request(T.hub_request(command), T.hub_response(command), fields, timeout=10)
    assert answer["status"] == "ok", answer
    return answer


def serve(mqtt: Probe, ticket: str, counter: int) -> None:
    """The officer of `counter` calls `ticket` and finishes it."""
    ask(mqtt, "call_ticket", counter=counter, ticket=ticket)
    ask(mqtt, "done", counter=counter)


def post_answer(client: Browser, body: dict[str, Any], csrf: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/json", "X-CSRF-Token": csrf or client.csrf("/survey")}
    status, _, data = client.request("POST", "/api/survey", json.dumps(body).encode(), headers)
    return status, json.loads(data)


SCORES = {f"U{i}": 4 for i in range(1, 10)}


def test_a_citizen_at_the_exit_tablet_taps_their_number_answers_nine_taps_and_the_page_resets(
    survey_hub, mqtt, new_page, shot
):
    ticket = ask(mqtt, "take_ticket", service="A")["data"]["ticket"]
    serve(mqtt, ticket, 1)
    page = new_page(*TABLET)
    page.goto(f"{survey_hub.base}/survey")
    page.click(f'.sv-ticket[data-ticket="{ticket}"]')
    page.wait_for_selector("#survey-question")
    assert ticket in (page.text_content("#survey-who") or "")
    shot(page, "survey-tablet-question")
    # one tap per element: 4 3 3 4 2 4 4 3 4 (the last element after a step back and a change)
    for score in (4, 3, 3, 4, 2, 4, 4, 3, 1):
        page.click(f'#survey-question .sv-answer[data-score="{score}"]')
    page.wait_for_selector("#survey-about")
    page.click("#survey-back")
    page.click('#survey-question[data-element="U9"] .sv-answer[data-score="4"]')
    page.click('#survey-about .sv-group[data-field="sex"] .sv-chip[data-value="p"]')
    page.click("#survey-send")
    page.wait_for_selector("#survey-thanks")
    shot(page, "survey-tablet-thanks")
    page.wait_for_selector("#survey-start", timeout=20_000)  # ready for the next citizen
    page.wait_for_selector("#survey-recent .sv-none, #survey-recent .sv-ticket")
    assert page.query_selector(f'.sv-ticket[data-ticket="{ticket}"]') is None  # it has answered

    # a second answer for the same ticket is refused, saying so
    status, body = post_answer(Browser(survey_hub, "127.0.0.31"), {"ticket": ticket, "scores": SCORES})
    assert status == 409
    assert body["data"]["code"] == "survey_already"
    assert body["error"] == f"Antrean {ticket} sudah memberi penilaian. Terima kasih!"


def test_a_ticket_answers_on_the_phone_once_it_is_done_and_only_once(survey_hub, mqtt, new_page, shot):
    phone = Browser(survey_hub, "127.0.0.32")
    status, _, taken = phone.take_ticket("B")
    assert status == 200, taken
    ticket = taken["data"]["ticket"]
    token = taken["data"]["status_url"].split("/t/")[-1]
    page = new_page(*PHONE)
    page.goto(f"{survey_hub.base}/t/{token}")
    page.wait_for_selector("#ticket")
    assert page.query_selector("#survey-invite") is None  # waiting: nothing to rate yet
    serve(mqtt, ticket, 2)
    page.click("#survey-open")
    for _ in range(9):
        page.click("#survey-question .sv-answer[data-score='3']")
    shot(page, "survey-phone-about-you")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE[0], "the survey scrolls sideways on a phone"
    page.click("#survey-send")
    page.wait_for_selector("#survey-done")
    assert (page.text_content("#survey-done") or "") == "Terima kasih atas penilaian Anda!"
    page.reload()
    page.wait_for_selector("#survey-done")
    assert "sudah memberi penilaian" in (page.text_content("#survey-done") or "")
    assert page.query_selector("#survey-open") is None


def test_a_ticket_not_finished_an_unknown_one_and_malformed_answers_are_refused(survey_hub, mqtt, new_page):
    waiting = ask(mqtt, "take_ticket", service="E")["data"]["ticket"]
    client = Browser(survey_hub, "127.0.0.33")
    csrf = client.csrf("/survey")
    status, body = post_answer(client, {"ticket": waiting, "scores": SCORES}, csrf)
    assert (status, body["data"]["code"]) == (409, "survey_not_done")
    assert "belum selesai" in body["error"]
    status, body = post_answer(client, {"ticket": "E-999", "scores": SCORES}, csrf)
    assert (status, body["data"]["code"]) == (404, "survey_unknown_ticket")

    done = ask(mqtt, "take_ticket", service="C")["data"]["ticket"]
    serve(mqtt, done, 3)
    for scores in (
        {**SCORES, "U1": 5},  # outside 1-4
        {**SCORES, "U1": "4"},  # not a number
        {k: v for k, v in SCORES.items() if k != "U9"},  # an element missing
        {**SCORES, "U10": 4},  # an unknown element
    ):
        status, body = post_answer(client, {"ticket": done, "scores": scores}, csrf)
        assert (status, body["data"]["code"]) == (400, "survey_bad_scores"), scores
    status, body = post_answer(
        client, {"ticket": done, "scores": SCORES, "respondent": {"phone": "0812"}}, csrf
    )
    assert (status, body["data"]["code"]) == (400, "survey_bad_respondent")
    status, _, _ = client.request(
        "POST",
        "/api/survey",
        json.dumps({"ticket": done, "scores": SCORES}).encode(),
        {"Content-Type": "application/json"},
    )
    assert status == 403  # no CSRF token

    # typed on the tablet, a ticket still waiting says why it cannot answer yet
    page = new_page(*TABLET)
    page.goto(f"{survey_hub.base}/survey")
    page.fill("#survey-ticket", waiting.lower().replace("-", ""))
    page.click("#survey-go")
    page.wait_for_selector("#survey-error:not([hidden])")
    assert f"Antrean {waiting} belum selesai" in (page.text_content("#survey-error") or "")

    # a script sending answer after answer is slowed down like the kiosk's tickets
    script = Browser(survey_hub, "127.0.0.34")
    token = script.csrf("/survey")
    codes = [post_answer(script, {"ticket": "E-998", "scores": SCORES}, token)[0] for _ in range(14)]
    assert codes[:12] == [404] * 12
    assert codes[-1] == 429


def test_the_admin_sees_the_recap_table_and_nobody_else_sees_the_results(survey_hub, new_page, login, shot):
    page = new_page(*TABLET)
    login(page, survey_hub.base, "admin", "/admin/survey")
    page.wait_for_selector("#survey-recap tbody tr")
    rows = page.eval_on_selector_all(
        "#survey-recap tbody tr", "rs => rs.map(r => Array.from(r.cells, c => c.textContent))"
    )
    assert len(rows) == 9 + 4
    assert rows[0][1] == "U1 Persyaratan"
    assert [r[1] for r in rows[-4:]] == [
        "Jumlah NRR tertimbang",
        "IKM unit pelayanan",
        "Mutu pelayanan",
        "Kinerja unit pelayanan",
    ]
    assert "bobot tiap unsur 1/9" in (page.text_content("#survey-title") or "")
    shot(page, "survey-admin", full_page=True)
    # one service: A had the tablet's answer 4 3 3 4 2 4 4 3 4 = 31 points: 25 x 31 / 9 = 86.11, B
    page.select_option("#survey-service", "A")
    page.click("#survey-show")
    page.wait_for_function("document.getElementById('survey-ikm').textContent === '86,11'")
    assert page.text_content("#survey-grade") == "B"
    assert page.text_content("#survey-label") == "Baik"
    assert page.text_content("#survey-responses") == "1"

    officer = Browser(survey_hub, "127.0.0.35")
    assert officer.login(*OFFICER)[0] == 302
    assert officer.request("GET", "/api/admin/survey")[0] == 403
    assert Browser(survey_hub, "127.0.0.36").request("GET", "/api/admin/survey")[0] in (302, 401, 403)


def test_the_stored_answers_hold_no_ticket_token_or_time(survey_hub):
    db = sqlite3.connect(f"file:{survey_hub.proc.database}?mode=ro", uri=True)
    try:
        rows = db.execute("SELECT * FROM survey_responses").fetchall()
        tags = [r[0] for r in db.execute("SELECT tag FROM survey_answered")]
    finally:
        db.close()
    assert rows, "the tests before stored answers"
    assert all(isinstance(row[0], bytes) and len(row[0]) == 16 for row in rows)  # random keys
    # the random keys are left out of the look for codes and times: 16 random bytes may hold a
    # ":" or an "A-123" by chance
    text = " ".join(str(v) for row in rows for v in row[1:])
    assert re.search(r"[A-Z]-\d{3}", text) is None  # no ticket code (A-001 ...)
    assert ":" not in text  # no time of day
    assert all(len(tag) == 32 and "-" not in tag for tag in tags)  # fingerprints, not codes
