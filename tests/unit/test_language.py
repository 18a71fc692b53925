"""Language guesses for posts that declare none (archiver.language, via normalize.detect_language)."""

from __future__ import annotations

import pytest

from archiver.language import guess
from archiver.normalize import MIN_LANGUAGE_TEXT, detect_language

TEXTS = {
    "en": "The harbour ferry will run fewer crossings during the winter months, the port authority said on Friday, "
          "but the last boat of the evening will leave half an hour later than it did last year.",
    "de": "Die Hafenfähre fährt in den Wintermonaten seltener, teilte die Hafenbehörde am Freitag mit, aber das "
          "letzte Boot des Abends legt eine halbe Stunde später ab als im vergangenen Jahr.",
    "fr": "Le bac du port effectuera moins de traversées pendant les mois d'hiver, a annoncé vendredi l'autorité "
          "portuaire, mais le dernier bateau du soir partira une demi-heure plus tard que l'an dernier.",
    "ja": "港のフェリーは冬の間、運航本数を減らすと港湾局が金曜日に発表した。"
          "ただし、夜の最終便は昨年より三十分遅く出発する。",
    "he": "מעבורת הנמל תפעל בתדירות נמוכה יותר בחודשי החורף, כך הודיעה רשות הנמל ביום שישי, אך הסירה האחרונה "
          "של הערב תצא חצי שעה מאוחר יותר מאשר בשנה שעברה.",
}


@pytest.mark.parametrize("language", sorted(TEXTS))
def test_guesses_the_language_of_a_paragraph(language: str) -> None:
    assert guess(TEXTS[language]) == language
    assert detect_language(TEXTS[language]) == language


def test_hebrew_gets_todays_code_not_cld3s_retired_one() -> None:
    assert guess(TEXTS["he"]) == "he"  # CLD3 itself says "iw"


def test_no_language_when_unsure_rather_than_a_wrong_one() -> None:
    # Names and jargon: CLD3 marks its guess unreliable (it would say Welsh).
    assert guess("Dr. Niall Jefferson talks Thyroid Nodules with Dr. Faruque Riffat") is None


def test_no_language_for_text_without_letters() -> None:
    assert guess("1234 5678 9012 3456 7890 !!! ??? ... --- +++") is None  # CLD3 alone says "ja"
    assert detect_language("2024-11-02 08:15 | 12.5 °C | 1013 hPa | 65 % | 3 km/h NW") is None


def test_texts_too_short_to_tell_get_no_language() -> None:
    short = TEXTS["en"][: MIN_LANGUAGE_TEXT - 1]
    assert detect_language(short) is None
