"""The channels, against real parts: gammu-smsd on Gammu's dummy phone, apprise to a local server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from antrian.notify import gammu
from antrian.notify.channels import (
    AppriseChannel,
    ChannelDown,
    Delivery,
    Rejected,
    SmsChannel,
    redact_numbers,
)
from antrian.notify.text import sms_parts

T = TypeVar("T")

NUMBER = "+6281234567890"
ALMOST = "Nomor antrean A-012: 3 orang lagi, sekitar pukul 10.05. Silakan kembali ke ruang tunggu."
CALLED = "Nomor antrean A-012 dipanggil ke Loket 2. Silakan menuju loket sekarang."


def run(coro: Awaitable[T]) -> T:
    async def main() -> T:
        return await coro

    return asyncio.run(main())


async def poll(
    fetch: Callable[[], Awaitable[list[Delivery]]], until: Callable[[list[Delivery]], bool]
) -> list[Delivery]:
    """Deliveries collected over calls of `fetch` until `until` holds for them (or 20 s)."""
    seen: list[Delivery] = []
    deadline = time.monotonic() + 20
    while not until(seen):
        assert time.monotonic() < deadline, seen
        seen += await fetch()
        await asyncio.sleep(0.05)
    return seen


# ----------------------------------------------------------------------------------------------
# how many SMS a text costs
# ----------------------------------------------------------------------------------------------


def test_indonesian_queue_messages_fit_one_gsm7_sms():
    assert sms_parts(ALMOST) == ("gsm7", 1)
    assert sms_parts(CALLED) == ("gsm7", 1)
    assert sms_parts("Maaf, nomor antrean A-008 tidak terlayani hari ini. Silakan datang lagi besok.") == (
        "gsm7",
        1,
    )


def test_extension_characters_count_twice_and_long_texts_split_at_153():
    assert sms_parts("x" * 160) == ("gsm7", 1)
    assert sms_parts("x" * 159 + "€") == ("gsm7", 2)  # 161 septets
    assert sms_parts("[A-012]" * 17 + "x" * 7) == ("gsm7", 1)  # 9 septets each: 153 + 7
    assert sms_parts("[A-012]" * 17 + "x" * 8) == ("gsm7", 2)
    assert sms_parts("x" * 306) == ("gsm7", 2)
    assert sms_parts("x" * 307) == ("gsm7", 3)
    # 306 septets, but an escape pair is never split: 152 | € + 151 | 1
    assert sms_parts("x" * 152 + "€" + "x" * 152) == ("gsm7", 3)


def test_one_character_outside_gsm_makes_the_whole_text_ucs2():
    assert sms_parts("Antrean Anda sudah dekat \u2019") == ("ucs2", 1)  # a word processor's apostrophe
    assert sms_parts("Terima kasih 🙏") == ("ucs2", 1)
    dash = "Nomor antrean A-012 – dipanggil ke Loket 2. "  # an en dash
    assert sms_parts(dash + "x" * (70 - len(dash))) == ("ucs2", 1)
    assert sms_parts(dash + "x" * (71 - len(dash))) == ("ucs2", 2)
    assert sms_parts(dash + "x" * (134 - len(dash))) == ("ucs2", 2)
    assert sms_parts(dash + "x" * (135 - len(dash))) == ("ucs2", 3)
    assert sms_parts("🙏" * 35) == ("ucs2", 1)
    assert sms_parts("🙏" * 36) == ("ucs2", 2)
    assert sms_parts("") == ("gsm7", 0)


# ----------------------------------------------------------------------------------------------
# SMS through gammu-smsd
# ----------------------------------------------------------------------------------------------


def test_an_sms_is_transmitted_by_gammu_smsd_with_its_number_and_text(gammu_smsd):
    channel = SmsChannel(gammu_smsd.smsdrc)

    async def body() -> list[Delivery]:
        sent = await channel.send(NUMBER, ALMOST, "m1")
        assert NUMBER not in sent.ref
        return await poll(channel.deliveries, lambda seen: any(d.state == "sent" for d in seen))

    deliveries = run(body())
    (message,) = gammu_smsd.wait_transmitted(1)
    assert (message.to, message.text, message.encoding, message.parts) == (NUMBER, ALMOST, "gsm7", 1)
    assert [d.state for d in deliveries] == ["sent"]
    assert gammu_smsd.outbox() == []


def test_gammu_smsd_encodes_as_sms_parts_counts(gammu_smsd):
    """gammu-smsd chooses GSM 7-bit or UCS-2 (``transmitformat = auto``) and splits the text as
    `sms_parts` says it will: what the admin is shown is what the office pays for."""
    texts = [
        CALLED,
        "Loket 2 {istirahat} sampai pukul 13.00 ~ [A-012] | € " + "x" * 120,  # extension chars, 2 SMS
        "Nomor antrean A-012 \u2013 dipanggil ke Loket 2.",  # an en dash: UCS-2
        "Café ñandú: " + "Silakan menuju loket sekarang. " * 6,  # GSM's accented letters, 2 SMS
        "Bapak/Ibu Ṣāliḥ, nomor antrean A-012 dipanggil ke Loket 2. Silakan menuju loket sekarang.",
    ]
    channel = SmsChannel(gammu_smsd.smsdrc)

    async def body() -> None:
        for i, text in enumerate(texts):
            await channel.send(NUMBER, text, f"m{i}")

    run(body())
    got = gammu_smsd.wait_transmitted(len(texts))
    assert [(m.text, m.encoding, m.parts) for m in got] == [(t, *sms_parts(t)) for t in texts]
    assert {m.to for m in got} == {NUMBER}


def test_the_same_key_twice_transmits_once_even_after_a_restart(gammu_smsd):
    async def body() -> tuple[str, str, str]:
        first = await SmsChannel(gammu_smsd.smsdrc).send(NUMBER, CALLED, "m7")
        again = await SmsChannel(gammu_smsd.smsdrc).send(NUMBER, CALLED, "m7")  # the hub restarted
        gammu_smsd.wait_transmitted(1)
        later = await SmsChannel(gammu_smsd.smsdrc).send(NUMBER, CALLED, "m7")  # now in the sent folder
        return first.ref, again.ref, later.ref

    refs = run(body())
    time.sleep(2.5)  # more than two of gammu-smsd's loops: a second file would have gone by now
    assert len(gammu_smsd.transmitted()) == 1
    assert len(set(refs)) == 1


def test_after_a_restart_the_state_of_a_message_sent_meanwhile_is_still_reported(gammu_smsd):
    """The hub stopped after handing a message over: the new channel reports it once."""

    async def body() -> None:
        sent = await SmsChannel(gammu_smsd.smsdrc).send(NUMBER, CALLED, "m4")
        gammu_smsd.wait_transmitted(1)
        fresh = SmsChannel(gammu_smsd.smsdrc)
        assert [(d.ref, d.state) for d in await fresh.deliveries()] == [(sent.ref, "sent")]
        assert await fresh.deliveries() == []

    run(body())


def test_while_gammu_smsd_is_stopped_the_channel_is_down_and_the_message_waits(gammu_smsd):
    channel = SmsChannel(gammu_smsd.smsdrc)
    up = run(channel.status())
    assert (up.up, up.signal_percent, up.pending) == (True, 42, 0)  # the dummy phone's signal
    gammu_smsd.stop()

    down = run(channel.status())
    assert not down.up
    assert down.last_error is not None
    run(channel.send(NUMBER, CALLED, "m3"))
    time.sleep(2.5)
    assert run(channel.status()).pending == 1
    assert gammu_smsd.transmitted() == []

    gammu_smsd.start()
    (message,) = gammu_smsd.wait_transmitted(1)
    assert (message.to, message.text) == (NUMBER, CALLED)
    back = run(channel.status())
    assert (back.up, back.pending, back.sent) == (True, 0, 1)


def test_a_delivery_report_marks_the_latest_message_to_that_number_delivered(gammu_smsd):
    other = "+6285712345678"
    channel = SmsChannel(gammu_smsd.smsdrc)

    async def body() -> list[Delivery]:
        mine = await channel.send(NUMBER, ALMOST, "m1")
        theirs = await channel.send(other, ALMOST, "m2")
        gammu_smsd.wait_transmitted(2)
        await poll(channel.deliveries, lambda seen: len(seen) == 2)
        gammu_smsd.report_delivery("6281234567890")  # as networks often write it: no "+"
        seen = await poll(channel.deliveries, lambda seen: len(seen) == 1)
        assert [(d.ref, d.state) for d in seen] == [(mine.ref, "delivered")]
        gammu_smsd.report_delivery(other, "Failed")
        seen = await poll(channel.deliveries, lambda seen: len(seen) == 1)
        assert [(d.ref, d.state) for d in seen] == [(theirs.ref, "failed")]
        return seen

    run(body())


def test_an_smsdrc_without_transmitformat_auto_is_refused(tmp_path):
    """Gammu 1.42 sends 7-bit unless told otherwise, and would mangle "é" or "’" silently."""
    cfg = gammu.write_dummy_smsdrc(tmp_path / "smsdrc", tmp_path / "spool")
    text = cfg.smsdrc.read_text().replace("transmitformat = auto\n", "")
    cfg.smsdrc.write_text(text)
    with pytest.raises(ValueError, match="transmitformat"):
        SmsChannel(cfg.smsdrc)


def test_an_sms_that_can_never_go_is_rejected(tmp_path):
    cfg = gammu.write_dummy_smsdrc(tmp_path / "smsdrc", tmp_path / "spool")
    channel = SmsChannel(cfg.smsdrc, max_segments=2)
    with pytest.raises(Rejected):
        run(channel.send("081234567890", CALLED, "m1"))  # not E.164
    with pytest.raises(Rejected):
        run(channel.send(NUMBER, "x" * 307, "m2"))  # three SMS
    assert list(cfg.outbox.iterdir()) == []


def test_an_outbox_that_cannot_be_written_is_a_channel_down(tmp_path):
    cfg = gammu.write_dummy_smsdrc(tmp_path / "smsdrc", tmp_path / "spool")
    channel = SmsChannel(cfg.smsdrc)
    cfg.outbox.rmdir()  # the spool's disk is not mounted
    with pytest.raises(ChannelDown):
        run(channel.send(NUMBER, CALLED, "m1"))
    cfg.outbox.mkdir()
    assert run(channel.send(NUMBER, CALLED, "m1")).ref


# ----------------------------------------------------------------------------------------------
# apprise
# ----------------------------------------------------------------------------------------------


def test_apprise_posts_the_message_with_the_number_to_the_endpoint(http_sink):
    channel = AppriseChannel(http_sink.apprise_url)

    async def body() -> tuple[str, list[Delivery]]:
        sent = await channel.send(NUMBER, CALLED, "m1")
        return sent.ref, await channel.deliveries()

    ref, deliveries = run(body())
    (got,) = http_sink.received
    assert (got["to"], got["text"], got["path"]) == (NUMBER, CALLED, "/notify")
    assert [(d.ref, d.state) for d in deliveries] == [(ref, "sent")]
    assert run(channel.status()).sent == 1


def test_apprise_sends_a_key_once_per_run(http_sink):
    channel = AppriseChannel(http_sink.apprise_url)

    async def body() -> None:
        await channel.send(NUMBER, CALLED, "m1")
        await channel.send(NUMBER, CALLED, "m1")

    run(body())
    assert len(http_sink.received) == 1


def test_a_failing_endpoint_is_a_channel_down_until_it_answers_again(http_sink):
    channel = AppriseChannel(http_sink.apprise_url)
    http_sink.fail(503)
    with pytest.raises(ChannelDown):
        run(channel.send(NUMBER, CALLED, "m1"))
    st = run(channel.status())
    assert (st.up, st.failed, http_sink.attempts) == (False, 1, 1)

    http_sink.fail(None)
    run(channel.send(NUMBER, CALLED, "m1"))
    assert run(channel.status()).up
    assert [m["to"] for m in http_sink.received] == [NUMBER]


def test_a_url_without_the_number_or_that_apprise_does_not_know_is_refused():
    with pytest.raises(ValueError, match="to"):
        AppriseChannel("json://127.0.0.1:9/notify")
    with pytest.raises(ValueError, match="nosuchservice"):
        AppriseChannel("nosuchservice://x/{to}")


def test_the_number_never_reaches_the_logs(http_sink, caplog):
    """apprise writes the URL (with the number in its path or query) and the payload at debug
    level, urllib3 the request line, WhatsApp's service the target: all of it is masked."""
    caplog.set_level(1)
    in_path = AppriseChannel(f"json://{http_sink.host}:{http_sink.port}/to/{{to}}")
    in_query = AppriseChannel(http_sink.apprise_url)

    async def body() -> None:
        await in_path.send(NUMBER, CALLED, "m1")
        await in_query.send(NUMBER, CALLED, "m2")
        http_sink.fail(503)
        with pytest.raises(ChannelDown):
            await in_query.send(NUMBER, CALLED, "m3")

    run(body())
    assert [m["path"] for m in http_sink.received] == [f"/to/{NUMBER}", "/notify"]
    apprise_lines = [
        r.getMessage() for r in caplog.records if r.name in ("apprise", "urllib3.connectionpool")
    ]
    assert any("JSON" in line for line in apprise_lines)  # apprise did log, at debug level
    text = caplog.text
    for spelling in (NUMBER, NUMBER[1:], "%2B" + NUMBER[1:], "81234567890"):
        assert spelling not in text
    assert "**********890" in text


def test_redaction_masks_every_spelling_of_a_number():
    line = "to +6281234567890 / 6281234567890 / %2B6281234567890 at 2026-11-30 10:05:01, port 8080"
    assert redact_numbers(line) == (
        "to +**********890 / **********890 / %2B**********890 at 2026-11-30 10:05:01, port 8080"
    )


def test_sms_channel_logs_no_number(gammu_smsd, caplog):
    caplog.set_level(1)
    channel = SmsChannel(gammu_smsd.smsdrc)

    async def body() -> None:
        await channel.send(NUMBER, CALLED, "m1")
        await poll(channel.deliveries, lambda seen: len(seen) == 1)
        await channel.status()

    run(body())
    assert NUMBER[1:] not in caplog.text
    assert any(r.name.startswith("antrian.notify") for r in caplog.records)
