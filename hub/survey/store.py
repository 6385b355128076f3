"""The survey's answers in the hub's own database, anonymous by construction.

Two tables, beside the event log (created like the notification outbox's):

- `survey_responses`: one row per answer: the working day, the service letter, the nine
  scores (1-4, checked by SQLite too) and the respondent's optional categories (age group,
  sex, education, occupation: the regulation asks for them; all may be empty). No ticket, no
  time of day, no phone number, nothing of the session. Its key is random and the table has
  no rowid, so not even the order of the rows tells which answer came after which ticket.
- `survey_answered`: which tickets of the day have answered, as a keyed fingerprint (HMAC
  under a key of the day that lives in a file beside the database, like the notification
  numbers' key, `antrian.notify.vault`), never as the ticket code. A ticket code is a letter
  and a number (A-012): hashed without a key it would be found again by trying the day's
  few hundred codes. The fingerprints are needed only while the day's tickets may answer (one
  answer per ticket); after the day they are deleted and the key destroyed, and nothing then
  joins an answer to a ticket, its times, its counter or a number given for SMS.

An answer and its fingerprint are written in one transaction: two taps that race each
other cannot both count.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from antrian import migrations
from antrian.survey.ikm import KEYS

#: The tables (`survey_responses`, `survey_answered`) are made by the schema steps of
#: `antrian.migrations`: a change to them is a new step there.

#: The respondent's optional categories and the values each may take (the regulation's
#: questionnaire: umur, jenis kelamin, pendidikan, pekerjaan). Ages are groups, not years.
RESPONDENT: Final[dict[str, tuple[str, ...]]] = {
    "age": ("lt20", "20s", "30s", "40s", "50s", "60plus"),
    "sex": ("l", "p"),
    "education": ("sd", "smp", "sma", "diploma", "s1", "s2plus"),
    "occupation": ("pns", "tni", "polri", "swasta", "wirausaha", "lainnya"),
}

_COLUMNS: Final = ("id", "day", "service", *(k.lower() for k in KEYS), *RESPONDENT)
#: The columns are this module's constants, never input.
_INSERT: Final = (
    f"INSERT INTO survey_responses({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})"  # noqa: S608
)


@dataclass(frozen=True)
class Response:
    """One answer: the service, the nine scores (U1..U9) and the optional categories."""

    day: str
    service: str
    scores: Mapping[str, int]
    respondent: Mapping[str, str]


class AlreadyAnswered(Exception):
    """The ticket has answered already (its fingerprint is in `survey_answered`)."""


class SurveyStore:
    """The survey tables, on the hub's own SQLite connection (one writer, one loop)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        migrations.upgrade(self.db)

    def answered(self, day: str, tag: str) -> bool:
        row = self.db.execute("SELECT 1 FROM survey_answered WHERE day=? AND tag=?", (day, tag)).fetchone()
        return row is not None

    def save(self, response: Response, tag: str) -> None:
        """Keep the answer and the ticket's fingerprint together; AlreadyAnswered if it was."""
        values = (
            secrets.token_bytes(16),
            response.day,
            response.service,
            *(int(response.scores[k]) for k in KEYS),
            *(response.respondent.get(k) or None for k in RESPONDENT),
        )
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute("INSERT INTO survey_answered(day, tag) VALUES (?, ?)", (response.day, tag))
                self.db.execute(_INSERT, values)
        except sqlite3.IntegrityError as exc:
            if "survey_answered" in str(exc):
                raise AlreadyAnswered from exc
            raise

    def forget_before(self, day: str) -> int:
        """Delete the fingerprints of the days before `day`; how many."""
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            cur = self.db.execute("DELETE FROM survey_answered WHERE day < ?", (day,))
        return cur.rowcount

    def answered_days(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT DISTINCT day FROM survey_answered ORDER BY day")]

    def respondents(self, first: date, last: date, service: str | None = None) -> dict[str, dict[str, int]]:
        """How many respondents gave each category (the report's respondent profile)."""
        out: dict[str, dict[str, int]] = {}
        for column in RESPONDENT:
            sql = (
                f"SELECT {column}, count(*) FROM survey_responses WHERE day BETWEEN ? AND ?"  # noqa: S608
                + (" AND service=?" if service else "")
                + f" GROUP BY {column}"
            )
            params: tuple[str, ...] = (first.isoformat(), last.isoformat())
            if service:
                params += (service,)
            out[column] = {str(v or ""): int(n) for v, n in self.db.execute(sql, params)}
        return out


def totals(
    db: sqlite3.Connection, first: date, last: date, service: str | None = None
) -> tuple[int, dict[str, int]]:
    """The number of answers of the days `first`..`last` (and `service`), and each element's
    sum of scores (exact integers: the NRR is computed from them as a fraction)."""
    try:
        db.execute("SELECT 1 FROM survey_responses LIMIT 0")
    except sqlite3.OperationalError:  # a database from before the survey: no answers yet
        return 0, dict.fromkeys(KEYS, 0)
    sums = ", ".join(f"coalesce(sum({k.lower()}), 0)" for k in KEYS)
    sql = f"SELECT count(*), {sums} FROM survey_responses WHERE day BETWEEN ? AND ?"  # noqa: S608
    params: tuple[str, ...] = (first.isoformat(), last.isoformat())
    if service:
        sql += " AND service=?"
        params += (service,)
    row = db.execute(sql, params).fetchone()
    return int(row[0]), {k: int(v) for k, v in zip(KEYS, row[1:], strict=True)}
