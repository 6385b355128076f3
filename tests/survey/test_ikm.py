"""The IKM arithmetic of PermenPANRB 14/2017 on hand-computed answers, and the anonymous store
it reads from (a real SQLite file, as the hub writes it)."""

from __future__ import annotations

import sqlite3
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from antrian.store import EventStore
from antrian.survey.ikm import ELEMENTS, KEYS, WEIGHT_PRINTED, IkmResult, from_totals, recap_section, summary
from antrian.survey.store import AlreadyAnswered, Response, SurveyStore

DAY = date(2026, 11, 2)


def answers(*rows: tuple[int, ...]) -> tuple[int, dict[str, int]]:
    """(count, sum per element) of responses given as nine scores each."""
    return len(rows), {k: sum(r[i] for r in rows) for i, k in enumerate(KEYS)}


def result_of(count: int, sums: dict[str, int], weight: Fraction | None = None) -> IkmResult:
    if weight is None:
        return from_totals(DAY, DAY, None, count, sums)
    return from_totals(DAY, DAY, None, count, sums, weight)


def uniform(count: int, total: int) -> dict[str, int]:
    """Sums per element adding up to `total` over `count` responses (only the total matters
    for the IKM, as every element weighs 1/9)."""
    base, extra = divmod(total, 9)
    return {k: base + (1 if i < extra else 0) for i, k in enumerate(KEYS)}


def test_the_nine_elements_are_the_regulations_with_their_indonesian_names():
    assert list(ELEMENTS) == ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"]
    assert ELEMENTS["U1"] == "Persyaratan"
    assert ELEMENTS["U2"] == "Sistem, mekanisme dan prosedur"
    assert ELEMENTS["U8"] == "Penanganan pengaduan, saran dan masukan"
    assert ELEMENTS["U9"] == "Sarana dan prasarana"


def test_three_respondents_give_the_hand_computed_nrr_ikm_and_grade():
    # Respondent 1: 4 4 3 4 3 3 4 3 4  (sum 32)
    # Respondent 2: 3 3 3 4 3 3 3 2 3  (sum 27)
    # Respondent 3: 4 3 2 4 3 4 4 3 3  (sum 30)
    # NRR: U1 11/3=3.667, U2 10/3=3.333, U3 8/3=2.667, U4 12/3=4, U5 9/3=3, U6 10/3=3.333,
    #      U7 11/3=3.667, U8 8/3=2.667, U9 10/3=3.333; sum = 89/3
    # IKM = 25 x (89/3) / 9 = 2225/27 = 82.407... -> 82.41: B (76.61-88.30), "Baik"
    count, sums = answers(
        (4, 4, 3, 4, 3, 3, 4, 3, 4),
        (3, 3, 3, 4, 3, 3, 3, 2, 3),
        (4, 3, 2, 4, 3, 4, 4, 3, 3),
    )
    r = result_of(count, sums)
    assert r.responses == 3
    assert r.nrr["U1"] == pytest.approx(11 / 3)
    assert r.nrr["U3"] == pytest.approx(8 / 3)
    assert r.nrr["U4"] == 4.0
    assert r.ikm == 82.41
    assert (r.grade, r.label) == ("B", "Baik")


def test_all_fours_is_100_and_all_ones_is_25():
    best = result_of(*answers((4,) * 9, (4,) * 9))
    assert (best.ikm, best.grade, best.label) == (100.0, "A", "Sangat Baik")
    worst = result_of(*answers((1,) * 9))
    assert (worst.ikm, worst.grade, worst.label) == (25.0, "D", "Tidak Baik")


def test_no_responses_have_no_index_and_no_grade():
    r = result_of(0, dict.fromkeys(KEYS, 0))
    assert (r.responses, r.nrr, r.ikm, r.grade, r.label) == (0, {}, None, None, None)
    title, rows = r.recap()
    assert "0 responden" in title
    assert [row[3] for row in rows[-4:]] == ["-", "-", "-", "-"]
    assert rows[-3][1] == "IKM unit pelayanan"


@pytest.mark.parametrize(
    ("count", "total", "exact", "ikm", "grade"),
    [
        # 250 responses, 7947 points: 25 x 7947 / (9 x 250) = 88.30 exactly: the top of B
        (250, 7947, "88.3000", 88.30, "B"),
        # 19 responses, 604 points: 25 x 604 / 171 = 88.3041 -> 88.30 (between the intervals
        # unrounded; rounded half up to two decimals it is B)
        (19, 604, "88.3041", 88.30, "B"),
        # 43 responses, 1367 points: 25 x 1367 / 387 = 88.3075 -> 88.31: A
        (43, 1367, "88.3075", 88.31, "A"),
        # 19 responses, 524 points: 25 x 524 / 171 = 76.6082 -> 76.61: B, not C
        (19, 524, "76.6082", 76.61, "B"),
        # 1 response, 24 points: 25 x 24 / 9 = 66.67: C; 23 points: 63.89: D
        (1, 24, "66.6667", 66.67, "C"),
        (1, 23, "63.8889", 63.89, "D"),
    ],
)
def test_a_grade_boundary_is_decided_on_the_ikm_rounded_half_up_to_two_decimals(
    count, total, exact, ikm, grade
):
    r = result_of(count, uniform(count, total))
    assert f"{25 * total / (9 * count):.4f}" == exact
    assert (r.ikm, r.grade) == (ikm, grade)


def test_the_printed_weight_0111_is_used_when_asked_and_named_in_the_title():
    # all 4s: 25 x 9 x 4 x 0.111 = 99.90 (not 100: the regulation's rounded weight)
    r = result_of(*answers((4,) * 9), weight=WEIGHT_PRINTED)
    assert (r.ikm, r.grade) == (99.9, "A")
    assert "bobot tiap unsur 0,111" in r.recap()[0]
    assert "bobot tiap unsur 1/9" in result_of(*answers((4,) * 9)).recap()[0]


def test_the_recap_table_has_each_element_then_total_ikm_grade_and_performance():
    count, sums = answers(
        (4, 4, 3, 4, 3, 3, 4, 3, 4),
        (3, 3, 3, 4, 3, 3, 3, 2, 3),
        (4, 3, 2, 4, 3, 4, 4, 3, 3),
    )
    title, rows = from_totals(date(2026, 11, 1), date(2026, 11, 30), "A", count, sums).recap("id")
    assert title == (
        "Indeks Kepuasan Masyarakat 2026-11-01 s.d. 2026-11-30, layanan A: 3 responden (bobot tiap unsur 1/9)"
    )
    assert rows[0] == ("No.", "Unsur pelayanan", "NRR", "NRR tertimbang")
    # U1: NRR 11/3 = 3,67; tertimbang 11/27 = 0,407
    assert rows[1] == ("1", "U1 Persyaratan", "3,67", "0,407")
    # U4: NRR 4,00; tertimbang 4/9 = 0,444
    assert rows[4] == ("4", "U4 Biaya/tarif", "4,00", "0,444")
    assert len(rows) == 1 + 9 + 4
    # total of the exact NRR tertimbang: 89/27 = 3,296; IKM 82,41
    assert rows[10] == ("", "Jumlah NRR tertimbang", "", "3,296")
    assert rows[11] == ("", "IKM unit pelayanan", "", "82,41")
    assert rows[12] == ("", "Mutu pelayanan", "", "B")
    assert rows[13] == ("", "Kinerja unit pelayanan", "", "Baik")
    assert from_totals(DAY, DAY, None, count, sums).recap("en")[1][11] == ("", "IKM of the unit", "", "82.41")


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hub database with answers of two days and two services."""
    path = tmp_path_factory.mktemp("survey") / "antrian.db"
    store = EventStore(path)
    survey = SurveyStore(store.db)
    given = [
        ("2026-11-02", "A", (4,) * 9, "t1"),
        ("2026-11-02", "B", (3,) * 9, "t2"),
        ("2026-11-03", "A", (2,) * 9, "t1"),  # the same fingerprint on another day is another ticket
    ]
    for day, service, scores, tag in given:
        survey.save(Response(day, service, dict(zip(KEYS, scores, strict=True)), {"sex": "p"}), tag)
    store.close()
    return path


def test_a_ticket_answers_once_per_day(db_file):
    store = EventStore(db_file)
    try:
        with pytest.raises(AlreadyAnswered):
            SurveyStore(store.db).save(Response("2026-11-02", "A", dict.fromkeys(KEYS, 1), {}), "t1")
        assert summary(store, date(2026, 11, 2), date(2026, 11, 2)).responses == 2
    finally:
        store.close()


def test_summary_reads_a_period_and_a_service_from_the_database_file(db_file):
    # A: 4s on the 2nd and 2s on the 3rd: NRR 3 each, IKM 75.00 (C); B: 3s, IKM 75.00
    both = summary(db_file, date(2026, 11, 1), date(2026, 11, 30), "A")
    assert (both.responses, both.nrr["U5"], both.ikm, both.grade) == (2, 3.0, 75.0, "C")
    only_2nd = summary(db_file, date(2026, 11, 2), date(2026, 11, 2))
    # (4 + 3) / 2 = 3.5 per element: 25 x 3.5 = 87.50 (B)
    assert (only_2nd.responses, only_2nd.ikm, only_2nd.grade) == (2, 87.5, "B")
    assert summary(db_file, date(2026, 10, 1), date(2026, 10, 31)).ikm is None


def test_an_answer_is_stored_without_the_ticket_its_time_or_its_order(db_file):
    db = sqlite3.connect(db_file)
    try:
        columns = [r[1] for r in db.execute("PRAGMA table_info(survey_responses)")]
        assert columns == [
            "id",
            "day",
            "service",
            *(k.lower() for k in KEYS),
            "age",
            "sex",
            "education",
            "occupation",
        ]
        tags = [r[0] for r in db.execute("SELECT tag FROM survey_answered")]
        assert set(tags) == {"t1", "t2"}  # fingerprints (HMAC in the hub), apart from the answers
        # no rowid: rows are kept in the order of their random key, not of their arrival
        with pytest.raises(sqlite3.OperationalError):
            db.execute("SELECT rowid FROM survey_responses")
        with pytest.raises(sqlite3.IntegrityError):  # SQLite itself refuses a score outside 1-4
            db.execute(
                "INSERT INTO survey_responses(id, day, service, u1, u2, u3, u4, u5, u6, u7, u8, u9) "
                "VALUES (x'00', '2026-11-04', 'A', 5, 1, 1, 1, 1, 1, 1, 1, 1)"
            )
    finally:
        db.close()


def test_the_recap_is_a_section_of_the_monthly_report_with_how_it_was_computed():
    section = recap_section(result_of(*answers((4,) * 9)))
    assert section.columns == ("No.", "Unsur pelayanan", "NRR", "NRR tertimbang")
    assert section.rows[-4:][1] == ("", "IKM unit pelayanan", "", "100,00")
    assert "bobot tiap unsur 1/9" in section.footnote
    assert "B 76,61-88,30 Baik" in section.footnote


def test_an_office_that_computes_with_the_printed_weight_says_so_on_every_recap(tmp_path):
    from antrian.config import parse_config
    from antrian.survey.extension import recap_sections

    cfg = parse_config({"survey": {"weight": "0.11"}})
    db = sqlite3.connect(tmp_path / "antrian.db")
    try:
        store = SurveyStore(db)
        store.save(Response("2026-11-04", "A", dict.fromkeys(KEYS, 4), {}), "t1")
        (overall, *per_service) = recap_sections(db, cfg, date(2026, 11, 1), date(2026, 11, 30), "id")
    finally:
        db.close()
    # every NRR 4; 25 x 9 x 4 x 0.11 = 99.00 (with 1/9 it would be 100.00)
    assert ("", "IKM unit pelayanan", "", "99,00") in overall.rows
    assert "bobot tiap unsur 0,11" in overall.footnote
    assert len(per_service) == 1  # service A, the one with an answer
