"""Observed lines are cut at a word boundary, never inside a URL."""
import pytest

from pitfall_lab.catalogue.text import shorten

URL_LINE = ("sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) SSL error: decryption "
            "failed or bad record mac (Background on this error at: https://sqlalche.me/e/20/e3q8)")


@pytest.mark.parametrize("width, expected", [
    (len(URL_LINE), URL_LINE),
    (len(URL_LINE) - 1, "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) SSL error: "
                        "decryption failed or bad record mac (Background on this error at: …"),
    (40, "sqlalchemy.exc.OperationalError: …"),
    (10, "sqlalchemy.exc.OperationalError: …"),
])
def test_a_line_is_cut_after_its_last_whole_word(width, expected):
    assert shorten(URL_LINE, width) == expected


def test_a_url_alone_is_kept_whole():
    assert shorten("https://sqlalche.me/e/20/e3q8", 10) == "https://sqlalche.me/e/20/e3q8"
