"""Relative dates count back from the end of the data, not from today, and the reply says so
(issue 13, item 8): the date logic on its own, then the assistant on the real server."""

from __future__ import annotations

import itertools

import pytest

from chatops_widget.assistant._dates import Window, anchor_to_data, relative_window
from chatops_widget.engine import sample_catalog

_ids = itertools.count(1)
CATALOG = sample_catalog()


def _spans(target, symbol, start):
    """What the sample data covers (the backtest plugin answers the same from its resolver)."""
    sym = symbol or {"strategy_1": "ALPHA", "strategy_3": "BRAVO"}.get(target or "", "ALPHA")
    index = CATALOG.get(sym).index
    index = index[index >= start] if start else index
    return (sym, str(index[0].date()), str(index[-1].date())) if len(index) else None


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("over the last 3 years", Window("trailing", 3, "year", "the last 3 years")),
        ("past 6 months", Window("trailing", 6, "month", "past 6 months")),
        ("최근 2년", Window("trailing", 2, "year", "최근 2년")),
        ("last year", Window("calendar", phrase="last year")),
        ("YTD", Window("calendar", phrase="YTD")),
        ("since 2015", None),
    ],
)
def test_relative_window(text, window):
    assert relative_window(text) == window


def test_a_trailing_window_ends_at_the_last_bar_and_says_which_bars():
    dates, notes = anchor_to_data(
        Window("trailing", 3, "year"), {"start": "2023-12-01"}, [("strategy_1", None)], _spans
    )
    assert dates == {"start": "2022-01-01"}
    assert notes == ["the last 3 years of ALPHA's data: 2022-01-03..2024-12-31"]


def test_a_window_longer_than_the_data_is_said_to_be_cut():
    dates, notes = anchor_to_data(
        Window("trailing", 20, "year"), {"start": "2006-12-01"}, [("strategy_1", None)], _spans
    )
    assert dates == {"start": "2005-01-01"}
    assert notes == [
        "ALPHA's data starts 2015-01-02, so the last 20 years are cut to "
        "2015-01-02..2024-12-31 (10.0 years of data)"
    ]


def test_a_calendar_period_is_kept_and_the_reply_warns_when_the_data_misses_it():
    last_year = {"start": "2025-01-01", "end": "2025-12-31"}
    empty = anchor_to_data(Window("calendar", phrase="last year"), last_year, [(None, "ALPHA")],
                           _spans)  # fmt: skip
    assert empty[0] == {"start": "2025-01-01", "end": "2025-12-31"}
    assert empty[1] == [
        "ALPHA's data covers 2015-01-02..2024-12-31: last year (2025-01-01..2025-12-31) has no "
        "bars there"
    ]
    partly = anchor_to_data(Window("calendar", phrase="this year"), {"start": "2024-01-01"},
                            [(None, "ALPHA")], _spans)  # fmt: skip
    assert partly[1] == [
        "ALPHA's data covers 2015-01-02..2024-12-31: this year (2024-01-01..…) is cut to "
        "2024-01-01..2024-12-31"
    ]


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for key in ("CHATOPS_LLM_BASE_URL", "CHATOPS_LLM_MODEL", "CHATOPS_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)


async def _say(c, session_id, text):
    ack = await c.call("sendMessage", {"sessionId": session_id, "content": text})
    assert ack["ok"], ack
    return await c.wait_event(
        "message",
        lambda m: m["role"] == "assistant" and m["seq"] > ack["message"]["seq"]
        and "assistant" in m["metadata"],
    )  # fmt: skip


def test_the_assistant_anchors_the_last_3_years_to_the_data(embedded_server, raw_client_cls, arun):
    async def scenario():
        sid = f"session_anchored{next(_ids)}"
        c = await raw_client_cls(embedded_server.url, embedded_server.token).connect()
        assert (await c.call("joinSession", {"sessionId": sid}))["ok"]
        reply = await _say(c, sid, "backtest strategy_1 over the last 3 years")
        cmd = "/run_backtest strategy_1 start=2022-01-01"
        assert f"`{cmd}`" in reply["content"], reply["content"]
        assert "The last 3 years of ALPHA's data: 2022-01-03..2024-12-31." in reply["content"]
        result = await c.wait_event("commandResult", lambda r: r["command"] == cmd, timeout=60)
        stats = result["summary"]["stats"]
        assert stats["start"].startswith("2022-01-03") and stats["end"].startswith("2024-12-31")
        assert 740 < stats["bars"] < 800  # about 3 years of daily bars, not what is left of
        # them after counting back from today

        cut = await _say(c, sid, "backtest strategy_1 over the last 20 years")
        assert "ALPHA's data starts 2015-01-02, so the last 20 years are cut to" in cut["content"]
        ko = await _say(c, sid, "strategy_1 최근 3년 백테스트 해줘")
        assert "ALPHA 데이터의 최근 3년: 2022-01-03..2024-12-31" in ko["content"]
        await c.close()

    arun(scenario(), timeout=120)
