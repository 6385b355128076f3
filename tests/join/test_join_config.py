"""`[join]` as the office writes it: defaults off, bounds and unknown services refused by name,
and codes by SMS/WhatsApp refused where no channel could send them."""

from __future__ import annotations

import pytest

from antrian.config import ConfigError, parse_config


def test_phones_are_off_by_default_and_auto_chooses_how_a_phone_is_known():
    join = parse_config({}).join
    assert (join.enabled, join.verify, join.share, join.free) == (False, "auto", 0.5, 10)


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ({"share": 1.5}, "join.share"),
        ({"per_service_per_minute": 0}, "join.per_service_per_minute"),
        ({"code_minutes": 600}, "join.code_minutes"),
        ({"verify": "sms"}, "join.verify"),
        ({"services": ["Z"]}, "no service Z"),
        ({"enabled": True, "verify": "otp"}, "sms_smsdrc or apprise_url"),
    ],
)
def test_a_bad_join_table_is_refused_by_name(table, said):
    with pytest.raises(ConfigError, match=said):
        parse_config({"join": table})


def test_codes_by_sms_are_accepted_once_a_channel_exists():
    cfg = parse_config(
        {"join": {"enabled": True, "verify": "otp"}, "notify": {"sms_smsdrc": "/etc/gammu-smsdrc"}}
    )
    assert cfg.join.verify == "otp"
