"""`antrian notify`: check the SMS modem and WhatsApp from the command line.

- `antrian notify test --to 0812...`: sends one test message through a configured channel and
  says whether it left (for SMS: whether gammu-smsd transmitted it), the way an IT officer
  checks a new modem before the office opens.
- `antrian notify status`: each channel (up, signal, queue, last error), today's messages by
  state and the monthly counts for the report. Never a phone number.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from antrian.config import ConfigError
from antrian.i18n import default_lang, t
from antrian.notify.phone import PhoneError, mask, normalise

#: How long `notify test` waits for the channel to report the message sent.
TEST_WAIT_S = 30.0


def _channels(args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    from antrian.cli import _config
    from antrian.notify.extension import build_channels

    cfg = _config(args.config)
    return cfg, dict(build_channels(cfg.notify))


async def _test(args: argparse.Namespace) -> int:
    lang = default_lang()
    cfg, channels = _channels(args)
    if not channels:
        print(t("notify_off", lang), file=sys.stderr)
        return 2
    name = args.channel or next(iter(channels))
    channel = channels.get(name)
    if channel is None:
        print(t("notify_channel_unknown", lang, channel=name), file=sys.stderr)
        return 2
    try:
        number = normalise(args.to)
    except PhoneError as exc:
        print(t(exc.key, lang), file=sys.stderr)
        return 2
    from antrian.notify.channels import ChannelDown, Rejected

    text = t("notify.test", lang, office=cfg.office.name)
    try:
        sent = await channel.send(number, text, f"test-{int(time.time())}")
    except (ChannelDown, Rejected) as exc:
        print(t("cli.notify_test_failed", lang, channel=name, phone=mask(number), error=exc), file=sys.stderr)
        return 1
    print(t("cli.notify_test_queued", lang, channel=name, phone=mask(number)))
    deadline = time.monotonic() + TEST_WAIT_S
    while time.monotonic() < deadline:
        for report in await channel.deliveries():
            if report.ref == sent.ref and report.state in ("sent", "delivered"):
                print(t("cli.notify_test_sent", lang, channel=name, state=report.state))
                return 0
            if report.ref == sent.ref and report.state == "failed":
                print(t("cli.notify_test_failed", lang, channel=name, phone=mask(number), error="failed"))
                return 1
        await asyncio.sleep(0.5)
    print(t("cli.notify_test_waiting", lang, channel=name), file=sys.stderr)
    return 1


async def _status(args: argparse.Namespace) -> dict[str, Any]:
    from antrian.notify.outbox import Outbox
    from antrian.store import EventStore

    cfg, channels = _channels(args)
    from antrian.notify.extension import channel_statuses

    out: dict[str, Any] = {"channels": await channel_statuses(channels)}
    store = EventStore(cfg.database)
    try:
        outbox = Outbox(store.db)
        out["messages"] = outbox.counts()
        out["monthly"] = outbox.monthly()
    finally:
        store.close()
    return out


def cmd_notify(args: argparse.Namespace) -> int:
    try:
        if args.action == "test":
            if not args.to:
                print(t("phone_missing", default_lang()), file=sys.stderr)
                return 2
            return asyncio.run(_test(args))
        print(json.dumps(asyncio.run(_status(args)), indent=2, ensure_ascii=False))
        return 0
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


def add_commands(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    lang = default_lang()
    p = subparsers.add_parser("notify", help=t("cli.notify", lang))
    p.add_argument("action", choices=("test", "status"), help=t("cli.notify_action", lang))
    p.add_argument("--to", help=t("cli.notify_to", lang))
    p.add_argument("--channel", choices=("sms", "whatsapp"), help=t("cli.notify_channel", lang))
    p.add_argument("-c", "--config", help=t("cli.config", lang))
    p.set_defaults(func=cmd_notify)
