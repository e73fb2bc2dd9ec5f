"""Date phrases, absolute and relative to today, as ``start=``/``end=`` options."""

from __future__ import annotations

import datetime as dt

import pytest

from chatops_widget.assistant import parse_intent
from chatops_widget.assistant._dates import extract_dates, relative_dates

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("over the last 2 years", {"start": "2024-11-26"}),
        ("the last two years", {"start": "2024-11-26"}),
        ("past 6 months", {"start": "2026-05-26"}),
        ("last 12 months", {"start": "2025-11-26"}),
        ("the past year", {"start": "2025-11-26"}),
        ("previous 3 weeks", {"start": "2026-11-05"}),
        ("last 90 days", {"start": "2026-08-28"}),
        ("last year", {"start": "2025-01-01", "end": "2025-12-31"}),  # the calendar year
        ("last month", {"start": "2026-10-01", "end": "2026-10-31"}),
        ("this year", {"start": "2026-01-01"}),
        ("year to date", {"start": "2026-01-01"}),
        ("YTD", {"start": "2026-01-01"}),
        ("최근 2년", {"start": "2024-11-26"}),
        ("지난 6개월", {"start": "2026-05-26"}),
        ("작년", {"start": "2025-01-01", "end": "2025-12-31"}),
        ("지난달", {"start": "2026-10-01", "end": "2026-10-31"}),
        ("올해", {"start": "2026-01-01"}),
    ],
)
def test_relative_phrases(text, expected):
    assert extract_dates(text, TODAY)[0] == expected


def test_month_ends_are_clamped_and_absolute_dates_win():
    assert relative_dates("past month", dt.date(2026, 3, 31))[0] == {"start": "2026-02-28"}
    assert relative_dates("last year", dt.date(2026, 1, 15))[0]["end"] == "2025-12-31"
    assert relative_dates("last month", dt.date(2026, 1, 15))[0] == {
        "start": "2025-12-01", "end": "2025-12-31"
    }  # fmt: skip
    assert extract_dates("from 2015 to 2018, not the last 2 years", TODAY)[0] == {
        "start": "2015-01-01", "end": "2018-12-31"
    }  # fmt: skip


@pytest.mark.parametrize(
    "text", ["what did you do last weekend", "the past few days were busy", "at last!"]
)
def test_words_that_are_not_periods(text):
    assert relative_dates(text, TODAY) == ({}, [])


def test_relative_dates_reach_the_command():
    today = dt.date.today()
    two_years = relative_dates("last 2 years", today)[0]["start"]
    assert parse_intent("backtest strategy_1 over the last 2 years") == (
        f"/run_backtest strategy_1 start={two_years}"
    )
    assert parse_intent("strategy_2 작년 백테스트 해줘") == (
        f"/run_backtest strategy_2 start={today.year - 1}-01-01 end={today.year - 1}-12-31"
    )
