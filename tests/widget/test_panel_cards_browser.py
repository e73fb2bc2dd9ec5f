"""Level 1, in Debian's Chromium: what issue 13 added to the cards and menus -- replies naming the
widget's variable, copy as code (clipboard and its fallback), downloads, the Sessions list,
comparison cards (facts, warnings, buy & hold, the rebased view), cost lines and unit labels,
and a reply whose card is shown without its duplicate table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from widget.test_panel_browser import deliver, history, msg, sent, set_traits

HINT = (
    "In Python: `results['run_abc123']` (`w.results[...]` on a panel `w`, "
    "`client.results[...]` on a ChatOpsClient)"
)
CODE = "w.trigger_backtest('strategy_1', fast=12, commission=0.0005).result()"


@pytest.fixture()
def clip_page(open_harness):
    """The harness with clipboard permissions granted (as a user allowing it would)."""
    return open_harness(secure=True, permissions=["clipboard-read", "clipboard-write"])


def _backtest(run_id="run_abc123", **extra):
    t = [1_600_000_000 + 86400 * i for i in range(50)]
    return {
        "type": "result",
        "runId": run_id,
        "kind": "backtest",
        "strategyId": "strategy_1",
        "template": "sma_cross",
        "symbol": "ALPHA",
        "stats": {"total_return": 0.1, "sharpe": 1.2, "commission": 0.0005, "spread": 0.0002,
                  "cash": 1_000_000.0, "commissions_paid": 1234.5, "spread_paid": 456.0},
        "series": {"t": t, "equity": [1e6 + 100 * i for i in range(50)],
                   "drawdown": [0.0] * 50, "benchmark": [1e6 + 50 * i for i in range(50)]},
        "code": CODE,
        **extra,
    }  # fmt: skip


def test_replies_name_the_widgets_variable_once_the_kernel_knows_it(page):
    history(page, [msg(1, "assistant", f"**run_abc123** done\n\n{HINT}")])
    bubble = page.locator(".cow-assistant .cow-bubble").first
    assert "results['run_abc123']" in bubble.inner_text()
    assert "client.results[...]" in bubble.inner_text()  # neutral: both ways named
    set_traits(page, python_name="research")
    page.wait_for_function(
        "() => document.querySelector('.cow-assistant .cow-bubble').textContent"
        ".includes(\"research.results['run_abc123']\")"
    )
    text = page.locator(".cow-assistant .cow-bubble").first.inner_text()
    assert "client.results" not in text and "on a panel" not in text
    set_traits(page, python_name="")
    page.wait_for_function(
        "() => document.querySelector('.cow-assistant .cow-bubble').textContent"
        ".includes('client.results')"
    )


def test_copy_as_code_puts_the_python_call_on_the_clipboard(clip_page):
    page = clip_page
    deliver(page, _backtest())
    button = page.locator(".cow-result .cow-copy-code")
    assert button.inner_text() == "copy as code"
    button.click()
    page.wait_for_function("() => document.querySelector('.cow-copy-code').dataset.copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == CODE
    assert "copied" in page.locator(".cow-copy-status").inner_text()


def test_copy_as_code_falls_back_without_the_clipboard_api(clip_page):
    page = clip_page
    page.evaluate(
        "() => { window.__clip = navigator.clipboard;"
        " Object.defineProperty(navigator, 'clipboard', {value: undefined}); }"
    )
    deliver(page, _backtest())
    page.locator(".cow-copy-code").click()
    page.wait_for_function("() => document.querySelector('.cow-copy-code').dataset.copied")
    assert page.evaluate("() => window.__clip.readText()") == CODE  # the copy command did it
    # and where no way works, the code is shown, selectable
    page.evaluate("() => { document.execCommand = () => false; }")
    deliver(page, _backtest("run_def456"))
    card = page.locator(".cow-result[data-run='run_def456']")
    card.locator(".cow-copy-code").click()
    card.locator(".cow-code").wait_for()
    assert card.locator(".cow-code").inner_text() == CODE
    assert "copy it from below" in card.locator(".cow-copy-status").inner_text()


def test_backtest_card_shows_cost_rates_amounts_and_units(page):
    deliver(page, _backtest())
    card = page.locator(".cow-result")
    costs = card.locator(".cow-costs").inner_text()
    assert "commission 0.05 % of notional per fill, spread 0.02 % of price per entry" in costs
    assert "paid 1,234.50 in commissions + 456.00 in spread = 0.17 % of the starting cash" in costs
    metrics = card.locator(".cow-metrics").inner_text()
    assert "0.05 %" in metrics and not re.search(r"(?<![\d.])0\.00 %|0\.001", metrics)
    paid = card.locator(".cow-metrics td", has_text="1,234.50")
    assert paid.inner_text().replace("\n", " ").strip() == "1,234.50 cash units"


def test_download_saves_the_kernels_file(page):
    with page.expect_download() as info:
        deliver(page, {"type": "download", "name": "session_1.ipynb",
                       "mime": "application/x-ipynb+json", "text": '{"cells": []}'})  # fmt: skip
    download = info.value
    assert download.suggested_filename == "session_1.ipynb"
    assert Path(download.path()).read_text() == '{"cells": []}'


def test_sessions_menu_lists_the_servers_sessions_and_joins_on_click(page):
    page.locator(".cow-sessions-btn").click()
    assert {"type": "session", "action": "list"} in sent(page)
    assert "loading" in page.locator(".cow-session-list").inner_text()
    sessions = [
        {"id": "session_b", "name": "momentum ideas", "createdAt": "2026-01-03T10:00:00+00:00",
         "lastSeq": 12},
        {"id": "session_test", "name": None, "createdAt": "2026-01-02T10:00:00+00:00",
         "lastSeq": 3},
    ]  # fmt: skip
    deliver(page, {"type": "sessions", "sessions": sessions, "total": 3, "current": "session_test"})
    items = page.locator(".cow-session-item")
    assert items.count() == 2
    assert (
        "momentum ideas" in items.nth(0).inner_text() and "12 messages" in items.nth(0).inner_text()
    )
    assert "unnamed" in items.nth(1).inner_text() and items.nth(1).is_disabled()  # this one
    assert "1 older not shown" in page.locator(".cow-session-list").inner_text()
    items.nth(0).click()
    assert sent(page)[-1] == {"type": "session", "action": "join", "id": "session_b"}


def _comparison(rebased=True):
    t = [1_600_000_000 + 86400 * i for i in range(40)]
    half = [None] * 20 + [1e6 + 10 * i for i in range(20)]
    msg_ = {
        "type": "result", "runId": "run_cmp1", "kind": "comparison",
        "strategies": ["strategy_1", "strategy_7"],
        "table": {"sharpe": {"strategy_1": 1.0, "strategy_7": 0.5},
                  "commission": {"strategy_1": 0.0005, "strategy_7": 0.0}},
        "info": {"strategy_1": {"symbol": "ALPHA", "start": "2020-09-13", "end": "2020-10-22",
                                "bars": 40, "frequency": "daily"},
                 "strategy_7": {"symbol": "BRAVO", "start": "2020-10-03", "end": "2020-10-22",
                                "bars": 20, "frequency": "daily"}},
        "warnings": ["The strategies cover different periods (...): compare them on the common "
                     "period 2020-10-03..2020-10-22."],
        "common": ["2020-10-03", "2020-10-22"],
        "series": {"t": t, "curves": {"strategy_1": [1e6 + 5 * i for i in range(40)],
                                      "strategy_7": half},
                   "benchmark": {"ALPHA": [1e6 + 7 * i for i in range(40)], "BRAVO": half}},
        "code": "w.compare_strategies('strategy_1', 'strategy_7')",
    }  # fmt: skip
    if rebased:
        r = [100 + i for i in range(20)]
        msg_["rebased"] = {"t": t[20:], "curves": {"strategy_1": r, "strategy_7": r},
                           "benchmark": {"ALPHA": r, "BRAVO": r}}  # fmt: skip
    return msg_


def _legend(page) -> list[str]:
    return page.evaluate(
        "() => [...document.querySelectorAll('.cow-result .u-legend .u-series')]"
        ".map((s) => s.textContent.trim()).filter(Boolean)"
    )


def test_comparison_card_facts_warning_buy_and_hold_and_rebased_view(page):
    deliver(page, _comparison())
    card = page.locator(".cow-result")
    assert "different periods" in card.locator(".cow-warning").inner_text()
    facts = {
        r.get_attribute("data-fact"): r.inner_text().split("\t")
        for r in card.locator("tr.cow-fact").all()
    }
    assert list(facts) == ["symbol", "start", "end", "bars", "frequency"]
    assert facts["symbol"] == ["symbol", "ALPHA", "BRAVO"]
    assert facts["start"] == ["start", "2020-09-13", "2020-10-03"]
    assert "0.05 %" in card.locator(".cow-comparison").inner_text()
    card.locator(".uplot canvas").first.wait_for()
    labels = _legend(page)
    assert [x for x in labels if "buy & hold" in x] == ["buy & hold ALPHA", "buy & hold BRAVO"]
    plot = card.locator(".cow-plot")
    assert plot.get_attribute("data-view") == "run"
    card.locator(".cow-view-rebased").click()
    page.wait_for_function("() => document.querySelector('.cow-plot').dataset.view === 'rebased'")
    caption = card.locator(".cow-view-caption").inner_text()
    assert "common period 2020-10-03..2020-10-22" in caption and "rebased to 100" in caption
    assert card.locator(".uplot").count() == 1  # redrawn, not stacked
    card.locator(".cow-view-run").click()
    page.wait_for_function("() => document.querySelector('.cow-plot').dataset.view === 'run'")


def test_comparison_without_a_common_period_cannot_be_rebased(page):
    deliver(page, _comparison(rebased=False))
    assert page.locator(".cow-view-rebased").is_disabled()


def test_a_reply_whose_card_is_shown_drops_its_duplicate_table(page):
    reply = (
        "**run_sw1** sweep of `sma_cross` on ALPHA: 4 combinations; best by sharpe:\n\n"
        "| fast | slow | sharpe |\n|---|---|---|\n| 5 | 20 | 1.234 |\n\n"
        + HINT.replace("abc123", "sw1")
    )
    meta = {"commandResult": {"runId": "run_sw1", "kind": "sweep", "summary": {"kind": "sweep"}}}
    history(page, [msg(1, "assistant", reply, metadata=meta)])
    row = page.locator(".cow-assistant:not(.cow-result)").first
    assert row.locator("table").count() == 1  # no card yet: the reply carries the table
    deliver(page, {"type": "result", "runId": "run_sw1", "kind": "sweep", "template": "sma_cross",
                   "symbol": "ALPHA", "params": ["fast", "slow"], "metric": "sharpe",
                   "rows": [{"fast": 5, "slow": 20, "sharpe": 1.234, "num_trades": 9}],
                   "count": 1, "minTrades": 5})  # fmt: skip
    page.wait_for_function(
        "() => !document.querySelector('.cow-assistant:not(.cow-result) .cow-bubble table')"
    )
    text = page.locator(".cow-assistant:not(.cow-result) .cow-bubble").first.inner_text()
    assert "best by sharpe" in text and "results['run_sw1']" in text
    # the card's table says 1.234 exactly as the reply did (one formatter)
    assert "1.234" in page.locator(".cow-result .cow-top").inner_text()
