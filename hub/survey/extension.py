"""The survey part: a citizen whose ticket is done rates the service, once, anonymously.

Where: the exit tablet (`/survey`, kiosk mode: the citizen taps their number among the tickets
just finished, or types it) and the citizen's own status page (`/t/{token}`, once the ticket
is done). Both end in `answer`, which checks, in this order: the ticket exists today and is
done today (a ticket not finished, or of another day, cannot answer), the answers are the
nine elements with 1-4 each (and the optional categories are known values), and the ticket
has not answered yet. Then the answer is stored without the ticket (`antrian.survey.store`).

Why the tablet may answer by ticket code, which is no secret (the TV shows it): the tablet is
at the exit, and a citizen finishing there is the one holding that number; the status page
answers by the ticket's random token. Either way one ticket gives one answer.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from antrian.bus import Ticked
from antrian.config import Config
from antrian.contract import ticket_code
from antrian.extension import Extension
from antrian.i18n import t
from antrian.notify.extension import Refusal
from antrian.notify.vault import DayVault
from antrian.queue import DONE, Ticket, local_day
from antrian.survey.ikm import KEYS, IkmResult, RecapSection, configured_weight, recap_section, summary
from antrian.survey.store import RESPONDENT, AlreadyAnswered, Response, SurveyStore

if TYPE_CHECKING:
    from aiohttp import web

    from antrian.service import HubService

log = logging.getLogger("antrian.survey")

#: The tablet lists the tickets finished within this time that have not answered yet ...
RECENT_WINDOW: Final = timedelta(minutes=30)
#: ... at most this many, newest first.
RECENT_COUNT: Final = 6


class Survey(Extension):
    """Takes the answers and keeps the day's fingerprints until the day is over."""

    name: ClassVar[str] = "survey"
    store: SurveyStore
    vault: DayVault

    def __init__(self, hub: HubService, *, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(hub)
        self.clock = clock or self.core.clock
        self._forget_minute = -1

    async def start(self) -> None:
        self.store = SurveyStore(self.core.store.db)
        self.vault = DayVault(_key_folder(self.core.cfg.database))
        self.bus.on(Ticked, self, self._on_tick)
        self.forget_old(self.clock())

    def web_routes(self) -> list[web.RouteDef]:
        from antrian.survey.web import routes

        return routes(self)

    # ------------------------------------------------------------------------------------------
    # which ticket
    # ------------------------------------------------------------------------------------------

    def today(self) -> str:
        return local_day(self.clock(), self.cfg)

    def find(self, *, token: str = "", ticket: str = "") -> Ticket | None:
        """Today's ticket with this token (status page) or code (tablet); None otherwise."""
        state = self.core.state
        if state.day != self.today():  # the tickets in memory are of another day
            return None
        if token:
            code = state.by_token.get(token)
            return state.tickets.get(code) if code else None
        return state.tickets.get(normalise_code(ticket)) if ticket else None

    def _tag(self, ticket: Ticket) -> str:
        return self.vault.tag(self.core.state.day, "survey:" + ticket.code)

    def check(self, ticket: Ticket | None, lang: str) -> Refusal | None:
        """Why this ticket may not answer now, or None when it may."""
        if ticket is None:
            return self._refuse("web.survey_unknown_ticket", lang, 404)
        if ticket.state != DONE:
            return self._refuse("web.survey_not_done", lang, 409, ticket=ticket.code)
        if self.store.answered(self.core.state.day, self._tag(ticket)):
            return self._refuse("web.survey_already", lang, 409, ticket=ticket.code)
        return None

    def recent(self) -> list[dict[str, str]]:
        """The tickets the tablet offers: finished lately, not answered, newest first."""
        if self.core.state.day != self.today():
            return []
        since = self.clock() - RECENT_WINDOW
        done = [
            tk
            for tk in self.core.state.tickets.values()
            if tk.state == DONE and tk.finished_at is not None and tk.finished_at >= since
        ]
        done.sort(key=lambda tk: tk.finished_at or since, reverse=True)
        out: list[dict[str, str]] = []
        for tk in done:
            if len(out) >= RECENT_COUNT:
                break
            if not self.store.answered(self.core.state.day, self._tag(tk)):
                out.append({"ticket": tk.code, "service": tk.service})
        return out

    def service_name(self, letter: str) -> str:
        svc = self.cfg.service(letter)
        return svc.name if svc else letter

    # ------------------------------------------------------------------------------------------
    # the answer
    # ------------------------------------------------------------------------------------------

    def answer(
        self, ticket: Ticket | None, scores: object, respondent: object, lang: str
    ) -> dict[str, Any] | Refusal:
        """Store the answer of `ticket` (scores: {"U1": 1-4, ... "U9": 1-4})."""
        refused = self.check(ticket, lang)
        if refused is not None or ticket is None:
            return refused or self._refuse("web.survey_unknown_ticket", lang, 404)
        checked = valid_scores(scores)
        if checked is None:
            return self._refuse("web.survey_bad_scores", lang, 400)
        who = valid_respondent(respondent)
        if who is None:
            return self._refuse("web.survey_bad_respondent", lang, 400)
        day = self.core.state.day
        try:
            self.store.save(Response(day, ticket.service, checked, who), self._tag(ticket))
        except AlreadyAnswered:
            return self._refuse("web.survey_already", lang, 409, ticket=ticket.code)
        log.info("survey: an answer for service %s", ticket.service)  # never which ticket
        return {"ticket": ticket.code}

    def _refuse(self, key: str, lang: str, status: int, **params: Any) -> Refusal:  # noqa: ANN401
        return Refusal(key.removeprefix("web."), t(key, lang, **params), status)

    # ------------------------------------------------------------------------------------------
    # results
    # ------------------------------------------------------------------------------------------

    def summary(self, first: date, last: date, service: str | None = None) -> IkmResult:
        return summary(self.core.store.db, first, last, service, weight=configured_weight(self.cfg))

    def report_sections(self, first: date, last: date, lang: str) -> list[RecapSection]:
        """The monthly PDF's survey pages (`antrian.reports` asks every part for these).
        A few aggregate queries on an indexed table: quick enough for the hub's loop."""
        return recap_sections(self.core.store.db, self.cfg, first, last, lang)

    @classmethod
    def report_sections_offline(cls, cfg: Config, first: date, last: date, lang: str) -> list[RecapSection]:
        """The same pages for `antrian report`, without a running hub: from the office's
        database, read-only (a database from before the survey has no answers)."""
        try:
            return recap_sections(Path(cfg.database), cfg, first, last, lang)
        except sqlite3.OperationalError:  # a database from before the survey: nothing to show
            return []

    # ------------------------------------------------------------------------------------------
    # the end of the day
    # ------------------------------------------------------------------------------------------

    def _on_tick(self, tick: Ticked) -> None:
        minute = int(tick.now.timestamp() // 60)
        if minute != self._forget_minute:  # once a minute is plenty: it only matters at midnight
            self._forget_minute = minute
            self.forget_old(tick.now)

    def forget_old(self, now: datetime) -> list[str]:
        """Delete the fingerprints of the days that are over and destroy their keys: from then
        on nothing links an answer to a ticket."""
        today = local_day(now, self.cfg)
        over = sorted(d for d in {*self.store.answered_days(), *self.vault.days()} if d < today)
        if over:
            self.store.forget_before(today)
            for day in over:
                self.vault.destroy(day)
            log.info("survey: fingerprints of %s deleted and their keys destroyed", ", ".join(over))
        return over


def normalise_code(text: str) -> str:
    """A typed ticket number as the queue writes it: "a12", "A 012", "a-12" -> "A-012"."""
    raw = "".join(c for c in text.upper() if c.isalnum())[:8]
    if len(raw) < 2 or not raw[0].isalpha() or not raw[1:].isdigit():
        return ""
    return ticket_code(raw[0], int(raw[1:]))


def valid_scores(scores: object) -> dict[str, int] | None:
    """Exactly the nine elements, each an integer 1-4; None otherwise."""
    if not isinstance(scores, Mapping) or set(scores) != set(KEYS):
        return None
    out: dict[str, int] = {}
    for key in KEYS:
        value = scores[key]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
            return None
        out[key] = value
    return out


def valid_respondent(respondent: object) -> dict[str, str] | None:
    """Known categories with known values, each optional; None for anything else."""
    if respondent is None:
        return {}
    if not isinstance(respondent, Mapping) or not set(respondent) <= set(RESPONDENT):
        return None
    out: dict[str, str] = {}
    for key, value in respondent.items():
        if value in (None, ""):
            continue
        if value not in RESPONDENT[key]:
            return None
        out[key] = value
    return out


def _key_folder(database: str) -> Path:
    """The day keys live beside the database, never inside it (and never in its backups)."""
    if database == ":memory:":
        return Path(tempfile.mkdtemp(prefix="antrian-survey-keys-"))
    db = Path(database)
    return db.with_name(db.name + ".survey-keys")


def recap_sections(
    db: sqlite3.Connection | Path, cfg: Config, first: date, last: date, lang: str
) -> list[RecapSection]:
    """The recap table of all services, then one per service that has answers in the period."""
    weight = configured_weight(cfg)
    overall = summary(db, first, last, weight=weight)
    sections = [recap_section(overall, lang)]
    if overall.responses:
        for svc in cfg.services:
            one = summary(db, first, last, svc.letter, weight=weight)
            if one.responses:
                sections.append(recap_section(one, lang))
    return sections
