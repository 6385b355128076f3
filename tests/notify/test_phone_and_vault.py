"""A citizen's number: taken only as an Indonesian mobile number, and unreadable after its day."""

from __future__ import annotations

import shutil
import sqlite3

import pytest

from antrian.notify.phone import PhoneError, mask, normalise
from antrian.notify.vault import DayVault


@pytest.mark.parametrize(
    "typed",
    ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "812 3456 7890", "(0812) 3456.7890"],
)
def test_every_usual_way_of_writing_a_mobile_number_gives_one_e164(typed):
    assert normalise(typed) == "+6281234567890"


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("", "phone_missing"),
        ("   ", "phone_missing"),
        ("+1 415 555 0100", "phone_not_indonesian"),
        ("021 555 1234", "phone_not_mobile"),
        ("0812", "phone_invalid"),
        ("08123456789012345", "phone_invalid"),
        ("0812abc4567", "phone_invalid"),
        ("٠٨١٢٣٤٥٦٧٨٩٠", "phone_invalid"),  # digits of another script are not a dialable number
        ("0" * 40, "phone_invalid"),
    ],
)
def test_a_number_the_office_cannot_text_is_refused_with_its_reason(typed, key):
    with pytest.raises(PhoneError) as err:
        normalise(typed)
    assert err.value.key == key


def test_a_masked_number_keeps_only_the_operator_prefix_and_the_last_four_digits():
    shown = mask("+6281234567890")
    assert shown == "+62812****7890"
    assert "3456" not in shown


def test_a_sealed_number_opens_on_its_day_and_never_after_the_key_is_destroyed(tmp_path):
    vault = DayVault(tmp_path / "keys")
    sealed = vault.seal("2026-11-30", "+6281234567890")
    assert b"81234567890" not in sealed
    assert vault.open("2026-11-30", sealed) == "+6281234567890"
    assert vault.open("2026-12-01", sealed) is None  # bound to its day
    assert DayVault(tmp_path / "keys").open("2026-11-30", sealed) == "+6281234567890"  # survives a restart

    vault.destroy("2026-11-30")
    assert vault.days() == []
    assert DayVault(tmp_path / "keys").open("2026-11-30", sealed) is None


def test_a_copy_of_the_database_made_during_the_day_holds_no_readable_number_after_it(tmp_path):
    """A backup taken while numbers are stored is safe once the day's key is destroyed: the copy
    holds only sealed bytes, and the key was never inside the database."""
    vault = DayVault(tmp_path / "keys")
    db = sqlite3.connect(tmp_path / "antrian.db")
    db.execute("CREATE TABLE contacts (sealed BLOB)")
    db.execute("INSERT INTO contacts VALUES (?)", (vault.seal("2026-11-30", "+6281234567890"),))
    db.commit()
    backup = sqlite3.connect(tmp_path / "backup.db")
    db.backup(backup)
    backup.close()
    shutil.copy(tmp_path / "backup.db", tmp_path / "backup-copy.db")

    vault.destroy("2026-11-30")

    raw = (tmp_path / "backup-copy.db").read_bytes()
    assert b"81234567890" not in raw
    assert b"1234567890" not in raw
    (sealed,) = sqlite3.connect(tmp_path / "backup-copy.db").execute("SELECT sealed FROM contacts").fetchone()
    assert DayVault(tmp_path / "keys").open("2026-11-30", sealed) is None


def test_the_per_number_tag_matches_the_same_number_within_a_day_only(tmp_path):
    vault = DayVault(tmp_path / "keys")
    a = vault.tag("2026-11-30", "+6281234567890")
    assert a == vault.tag("2026-11-30", "+6281234567890")
    assert a != vault.tag("2026-11-30", "+6281234567891")
    assert a != vault.tag("2026-12-01", "+6281234567890")
