"""The Indonesian calling grammar: number words, text and clip order."""

from __future__ import annotations

import pytest
from num2words import num2words

from antrian.announce import NUMBER_WORDS, Wording, build, clip_texts, number_words
from antrian.contract import MAX_TICKET_NUMBER


def test_number_words_match_num2words_indonesian_for_every_ticket_number():
    wrong = [n for n in range(MAX_TICKET_NUMBER + 1) if " ".join(number_words(n)) != num2words(n, lang="id")]
    assert wrong == []
    with pytest.raises(ValueError, match="out of range"):
        number_words(MAX_TICKET_NUMBER + 1)


def test_the_eighteen_word_clips_cover_every_number():
    used = {w for n in range(MAX_TICKET_NUMBER + 1) for w in number_words(n)}
    assert used == set(NUMBER_WORDS)
    assert len(NUMBER_WORDS) == 18


def test_default_call_text_and_clips():
    ann = build("A", 12, 3)
    assert ann.text == "Nomor antrean A dua belas, silakan menuju loket tiga"
    call = [
        "phrase.nomor_antrean",
        "letter.a",
        "number.dua",
        "number.belas",
        "phrase.silakan_menuju",
        "phrase.loket",
        "number.tiga",
    ]
    assert list(ann.clips) == ["chime", "pause.300", *call, "pause.800", *call]


def test_digit_mode_named_counter_and_repeat():
    ann = build(
        "B", 12, 4, counter_name="loket pengambilan dokumen", wording=Wording(digit_mode=True, repeat=3)
    )
    assert ann.text == "Nomor antrean B nol satu dua, silakan menuju loket pengambilan dokumen"
    assert ann.clips.count("name.loket_pengambilan_dokumen") == 3
    assert ann.clips.count("pause.800") == 2


def test_every_clip_of_any_call_is_in_the_cache_list():
    texts = clip_texts(Wording(), ["loket pengambilan dokumen"])
    for letter in "ABCDE":
        for n in (1, 10, 11, 12, 20, 99, 100, 111, 205, 999):
            for counter in (1, 3, 12):
                clips = build(letter, n, counter).clips
                assert all(c in texts or c.startswith(("pause.", "chime")) for c in clips)
