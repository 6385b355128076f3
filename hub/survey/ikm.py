"""The satisfaction index (IKM) of PermenPANRB 14/2017, from the survey's stored answers.

The regulation's arithmetic, exactly:

- nine elements U1..U9 (`ELEMENTS`), each answered 1-4;
- NRR per element = the mean of its answers;
- NRR tertimbang = NRR x the weight (1/9: each element counts alike);
- IKM = 25 x the sum of the NRR tertimbang (a value from 25 to 100);
- the grade of the IKM: A 88.31-100 Sangat Baik, B 76.61-88.30 Baik, C 65.00-76.60 Kurang
  Baik, D 25.00-64.99 Tidak Baik.

Rounding. The grade intervals are written with two decimals and leave gaps (88.30 | 88.31):
an IKM is therefore rounded once, to two decimals, half up (88.305 -> 88.31), and graded by
that rounded value, which is also the one printed. Everything before is computed exactly
(fractions), so the result never depends on the order of the answers or on float error; the
NRR (two decimals) and NRR tertimbang (three decimals) in the recap table are rounded for
display only. The regulation's annex prints the weight as 0.111; `summary(..., weight=
WEIGHT_PRINTED)` computes with it (all answers 4 then give 99.90, not 100) and the recap
title says which weight was used.

The Python API (also what the monthly report calls)::

    from antrian.survey.ikm import ELEMENTS, IkmResult, summary

    result = summary(db, first, last, service=None)   # db: a database path, an EventStore
                                                      # or an sqlite3.Connection
    result.responses, result.nrr["U1"], result.ikm, result.grade, result.label
    title, rows = result.recap(lang="id")             # rows[0] is the header row

`summary(db_path_or_store: str | Path | EventStore | sqlite3.Connection, first: date,
last: date, service: str | None = None, *, weight: Fraction = WEIGHT) -> IkmResult`: every
answer of the days `first`..`last` (inclusive, the office's working days), of one service
letter or of all. `IkmResult.recap(lang: str = "id") -> tuple[str, list[tuple[str, ...]]]`:
the title and the regulation's recap table as rows of strings (decimal comma in Indonesian):
the header, one row per element (no, element, NRR, NRR tertimbang), then the total of NRR
tertimbang, the IKM, the mutu pelayanan (grade) and the kinerja unit (label).
`recap_section(result, lang="id") -> RecapSection` is the same table as a section of the
monthly PDF (`title`, `columns`, `rows`, `footnote`: how the IKM is computed and graded).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Final

from antrian.config import Config
from antrian.i18n import t

if TYPE_CHECKING:
    from antrian.store import EventStore

#: The nine elements of the regulation, by key (the column of the answers' table).
KEYS: Final = tuple(f"U{i}" for i in range(1, 10))
#: Each element's name in Indonesian, as the regulation writes it.
ELEMENTS: Final[dict[str, str]] = {key: t(f"web.survey_el_{key.lower()}", "id") for key in KEYS}
#: The weight of each element: 1/9, exact.
WEIGHT: Final = Fraction(1, 9)
#: The weight as the regulation's annex prints it (0.111).
WEIGHT_PRINTED: Final = Fraction(111, 1000)
#: Grades, best first: (grade, lowest rounded IKM, catalogue key of the label).
GRADES: Final = (
    ("A", Decimal("88.31"), "web.survey_grade_a"),
    ("B", Decimal("76.61"), "web.survey_grade_b"),
    ("C", Decimal("65.00"), "web.survey_grade_c"),
    ("D", Decimal("25.00"), "web.survey_grade_d"),
)
_CENT: Final = Decimal("0.01")


def rounded(value: Fraction, places: int = 2) -> Decimal:
    """`value` to `places` decimals, half up (the way the regulation's tables are printed)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def grade_of(ikm: Decimal) -> str | None:
    """The grade of an IKM already rounded to two decimals; None below 25 (no valid IKM)."""
    for grade, lowest, _ in GRADES:
        if ikm >= lowest:
            return grade
    return None


def label_of(grade: str | None, lang: str = "id") -> str | None:
    """The grade's words ("Sangat Baik" ... "Tidak Baik")."""
    key = next((k for g, _, k in GRADES if g == grade), None)
    return t(key, lang) if key else None


def configured_weight(cfg: Config) -> Fraction:
    """The office's weight (`[survey] weight`: "1/9", "0.111" or "0.11"), exact."""
    return Fraction(cfg.survey.weight)


def ikm_of(nrr: Mapping[str, Fraction], weight: Fraction = WEIGHT) -> Fraction:
    """25 x the sum of NRR x weight, exact."""
    return 25 * sum((n * weight for n in nrr.values()), Fraction(0))


@dataclass(frozen=True)
class IkmResult:
    """The index of a period (and a service, or all): what the admin page and the report show."""

    first: date
    last: date
    service: str | None
    responses: int
    #: NRR per element (U1..U9), exact; empty without responses.
    nrr_exact: Mapping[str, Fraction] = field(default_factory=dict)
    weight: Fraction = WEIGHT

    @property
    def nrr(self) -> dict[str, float]:
        """NRR per element as floats (U1..U9); empty without responses."""
        return {k: float(v) for k, v in self.nrr_exact.items()}

    @property
    def ikm_decimal(self) -> Decimal | None:
        """The IKM rounded to two decimals, half up: the value printed and graded."""
        if not self.responses:
            return None
        return rounded(ikm_of(self.nrr_exact, self.weight))

    @property
    def ikm(self) -> float | None:
        """The IKM (25-100) to two decimals, or None without responses."""
        value = self.ikm_decimal
        return float(value) if value is not None else None

    @property
    def grade(self) -> str | None:
        """Mutu pelayanan: "A".."D", or None without responses."""
        value = self.ikm_decimal
        return grade_of(value) if value is not None else None

    @property
    def label(self) -> str | None:
        """Kinerja unit pelayanan in Indonesian ("Sangat Baik" ...), or None."""
        return label_of(self.grade, "id")

    def weight_text(self, lang: str = "id") -> str:
        """The weight used, as the report says it: "1/9" or "0,111"."""
        if self.weight == WEIGHT:
            return "1/9"
        text = f"{float(self.weight):g}"  # as configured: 0.111 or 0.11
        return text.replace(".", ",") if lang == "id" else text

    def recap(self, lang: str = "id") -> tuple[str, list[tuple[str, ...]]]:
        """The regulation's recap table: its title and rows of strings, the header first."""
        service = (
            t("web.survey_recap_service", lang, service=self.service)
            if self.service
            else t("web.survey_recap_all", lang)
        )
        title = t(
            "web.survey_recap_title",
            lang,
            first=self.first.isoformat(),
            last=self.last.isoformat(),
            service=service,
            n=self.responses,
            weight=self.weight_text(lang),
        )
        rows: list[tuple[str, ...]] = [
            (
                t("web.survey_col_no", lang),
                t("web.survey_col_element", lang),
                t("web.survey_col_nrr", lang),
                t("web.survey_col_weighted", lang),
            )
        ]
        total = Fraction(0)
        for i, key in enumerate(KEYS, 1):
            nrr = self.nrr_exact.get(key)
            name = t(f"web.survey_el_{key.lower()}", lang)
            if nrr is None:
                rows.append((str(i), f"{key} {name}", "-", "-"))
                continue
            total += nrr * self.weight
            rows.append(
                (
                    str(i),
                    f"{key} {name}",
                    _number(rounded(nrr, 2), lang),
                    _number(rounded(nrr * self.weight, 3), lang),
                )
            )
        have = bool(self.responses)
        ikm = self.ikm_decimal
        rows += [
            ("", t("web.survey_row_total", lang), "", _number(rounded(total, 3), lang) if have else "-"),
            ("", t("web.survey_row_ikm", lang), "", _number(ikm, lang) if ikm is not None else "-"),
            ("", t("web.survey_row_grade", lang), "", self.grade or "-"),
            ("", t("web.survey_row_label", lang), "", label_of(self.grade, lang) or "-"),
        ]
        return title, rows


@dataclass(frozen=True)
class RecapSection:
    """The recap table as a section of the monthly report (`title`, `columns`, `rows`,
    `footnote`: the shape `antrian.reports.tables.ReportSection` asks for)."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    footnote: str


def recap_section(result: IkmResult, lang: str = "id") -> RecapSection:
    """`result.recap(lang)` for the monthly PDF, with how the IKM is computed as its footnote."""
    title, rows = result.recap(lang)
    footnote = t("web.survey_footnote", lang, weight=result.weight_text(lang))
    return RecapSection(title, rows[0], tuple(rows[1:]), footnote)


def _number(value: Decimal, lang: str) -> str:
    """A decimal as people of `lang` write it (Indonesian: comma)."""
    text = str(value)
    return text.replace(".", ",") if lang != "en" else text


def from_totals(
    first: date,
    last: date,
    service: str | None,
    count: int,
    sums: Mapping[str, int],
    weight: Fraction = WEIGHT,
) -> IkmResult:
    """The result of `count` responses whose answers add up to `sums` per element."""
    nrr = {k: Fraction(int(sums[k]), count) for k in KEYS} if count else {}
    return IkmResult(first, last, service, count, nrr, weight)


def summary(
    db_path_or_store: str | Path | EventStore | sqlite3.Connection,
    first: date,
    last: date,
    service: str | None = None,
    *,
    weight: Fraction = WEIGHT,
) -> IkmResult:
    """The IKM of the answers given on the days `first`..`last`, of `service` or of all.

    A path is opened read-only for the call (the report may run beside a running hub); a
    store or a connection is read as it is (the hub's own).
    """
    from antrian.survey.store import totals

    if isinstance(db_path_or_store, sqlite3.Connection):
        count, sums = totals(db_path_or_store, first, last, service)
    elif isinstance(db_path_or_store, str | Path):
        uri = Path(db_path_or_store).resolve().as_uri() + "?mode=ro"
        conn = sqlite3.connect(uri, uri=True)
        try:
            count, sums = totals(conn, first, last, service)
        finally:
            conn.close()
    else:
        count, sums = totals(db_path_or_store.db, first, last, service)
    return from_totals(first, last, service, count, sums, weight)
