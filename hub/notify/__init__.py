"""Notifications: the citizen who gave a phone number hears of their turn by SMS or WhatsApp.

The outbox (`antrian.notify.outbox`) keeps each message in the hub's database, written in the
same transaction as the event that causes it; the channels (`antrian.notify.channels`) send it:
SMS through a GSM modem driven by `gammu-smsd` (no internet needed), WhatsApp, Telegram and
others through apprise when the office is online.
"""
