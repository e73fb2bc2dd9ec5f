"""Level 1: the bundled panel in Debian's Chromium, driven through a model stub.

Everything the kernel would send arrives as anywidget custom messages (``model.deliver``);
everything the panel sends is recorded in ``model.sent``.
"""

from __future__ import annotations

import json
import re

SESSION = "session_test"
SCROLL = "document.querySelector('.cow-scroll')"


def msg(seq: int, role: str, content: str, **extra) -> dict:
    return {
        "id": f"msg_{seq}",
        "sessionId": SESSION,
        "role": role,
        "content": content,
        "timestamp": f"2026-01-02T10:{seq // 60 % 60:02d}:{seq % 60:02d}.000Z",
        "metadata": extra.pop("metadata", {}),
        "seq": seq,
        **extra,
    }


def deliver(page, payload: dict) -> None:
    page.evaluate("(p) => window.__model.deliver(p)", payload)
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")


def history(page, messages: list[dict]) -> None:
    client_id = page.evaluate("() => window.__model.sent.find((m) => m.type === 'ready').clientId")
    deliver(page, {"type": "history", "to": client_id, "messages": messages})


def sent(page) -> list[dict]:
    return page.evaluate("() => window.__model.sent")


def test_ready_is_sent_once_and_history_renders(page):
    ready = [m for m in sent(page) if m["type"] == "ready"]
    assert len(ready) == 1 and ready[0]["clientId"]
    # a history addressed to another front end (another browser tab) is ignored
    deliver(page, {"type": "history", "to": "someone-else", "messages": [msg(1, "user", "x")]})
    assert page.locator(".cow-row").count() == 0
    assert page.locator(".cow-empty").is_visible()
    history(page, [msg(1, "user", "hi"), msg(2, "assistant", "hello"), msg(3, "system", "note")])
    assert page.locator(".cow-row").count() == 3
    assert not page.locator(".cow-empty").is_visible()
    # one append = one message, never a re-sent history; same id again = in-place update
    deliver(page, {"type": "message", "message": msg(4, "assistant", "first")})
    deliver(page, {"type": "message", "message": msg(4, "assistant", "second")})
    rows = page.locator(".cow-row")
    assert rows.count() == 4
    assert rows.nth(3).inner_text().startswith("second")


def test_role_styling_and_timestamps(page):
    history(
        page, [msg(1, "user", "run it"), msg(2, "assistant", "ok"), msg(3, "system", "careful")]
    )
    styles = page.evaluate(
        """() => [...document.querySelectorAll('.cow-row')].map((row) => {
            const b = row.querySelector('.cow-bubble').getBoundingClientRect();
            const r = row.getBoundingClientRect();
            const cs = getComputedStyle(row.querySelector('.cow-bubble'));
            return {role: row.dataset.role, left: b.left - r.left, right: r.right - b.right,
                    bg: cs.backgroundColor, border: cs.borderLeftColor,
                    meta: row.querySelector('.cow-meta').textContent};
        })"""
    )
    user, assistant, system = styles
    assert user["role"] == "user" and user["right"] < 20 < user["left"]  # right-aligned
    assert assistant["left"] < 20 < assistant["right"]  # left-aligned
    assert system["left"] < 20 < system["right"]
    assert user["bg"] == "rgb(25, 118, 210)"  # primary (fallback of --jp-brand-color1)
    assert assistant["bg"] != user["bg"] and system["bg"] != assistant["bg"]
    assert system["border"] == "rgb(237, 108, 2)"  # warning accent
    composer = page.evaluate(
        """() => { const c = document.querySelector('.cow-composer');
             return [getComputedStyle(c).display, c.querySelector('.cow-input').offsetWidth,
                     c.clientWidth]; }"""
    )
    assert composer[0] == "flex" and composer[1] > 0.6 * composer[2], composer
    expected = page.evaluate("() => new Date('2026-01-02T10:00:01.000Z').toLocaleTimeString()")
    assert user["meta"].endswith(expected)


def test_enter_sends_and_shift_enter_inserts_newline(page):
    box = page.locator(".cow-input")
    box.click()
    box.type("line one")
    box.press("Shift+Enter")
    box.type("line two")
    assert box.input_value() == "line one\nline two"
    assert not [m for m in sent(page) if m["type"] == "send"]
    box.press("Enter")
    assert [m for m in sent(page) if m["type"] == "send"] == [
        {"type": "send", "text": "line one\nline two"}
    ]
    assert box.input_value() == ""
    box.type("/help")
    box.press("Enter")
    assert sent(page)[-1] == {"type": "send", "text": "/help"}
    # ArrowUp / ArrowDown recall what was sent
    box.press("ArrowUp")
    assert box.input_value() == "/help"
    box.press("ArrowUp")
    assert box.input_value() == "line one\nline two"
    box.press("ArrowDown")
    assert box.input_value() == "/help"
    box.press("ArrowDown")
    assert box.input_value() == ""


def set_traits(page, **traits) -> None:
    page.evaluate(
        "(t) => { for (const [k, v] of Object.entries(t)) window.__model.set(k, v); }", traits
    )


COMMANDS = [
    {"name": "help", "usage": "/help [command]", "summary": "List commands"},
    {
        "name": "run_backtest",
        "usage": "/run_backtest <strategy_id | template> [symbol=..] [param=value ...]",
        "summary": "Run a backtest",
    },
    {"name": "compare_strategies", "usage": "/compare_strategies <id> <id>", "summary": "Compare"},
]
STRATEGIES = [
    {"id": "strategy_1", "name": "SMA 10/30", "template": "sma_cross", "symbol": "GOOG"},
    {"id": "strategy_2", "name": "RSI", "template": "rsi_reversion", "symbol": "AAPL"},
]
TEMPLATES = [
    {
        "name": "sma_cross",
        "description": "SMA crossover",
        "params": [
            {"name": "fast", "type": "int", "default": 10, "min": 2, "max": 200, "doc": "fast"},
            {"name": "slow", "type": "int", "default": 30, "min": 3, "max": 400, "doc": "slow"},
        ],
    }
]


def test_autocomplete_commands_strategies_and_params(page):
    set_traits(page, commands=COMMANDS, strategies=STRATEGIES, templates=TEMPLATES)
    box = page.locator(".cow-input")
    box.click()
    box.type("/ru")
    popup = page.locator(".cow-suggest")
    assert popup.is_visible()
    assert page.locator(".cow-option-label").all_inner_texts() == ["/run_backtest"]
    box.press("Tab")
    assert box.input_value() == "/run_backtest "
    assert "/run_backtest <strategy_id | template>" in page.locator(".cow-hint").inner_text()
    labels = page.locator(".cow-option-label").all_inner_texts()
    assert labels[:2] == ["strategy_1", "strategy_2"] and "sma_cross" in labels
    box.type("strategy_1 f")
    assert page.locator(".cow-option-label").all_inner_texts() == ["fast="]
    assert "default 10" in page.locator(".cow-option-desc").first.inner_text()
    box.press("Tab")
    box.type("12")
    assert "fast: int, default 10, 2..200" in page.locator(".cow-hint").inner_text()
    box.type(" sp")  # trading costs are offered too
    assert page.locator(".cow-option-label").all_inner_texts() == ["spread="]
    assert "bid-ask spread" in page.locator(".cow-option-desc").first.inner_text()
    # arrow to an option and accept with Enter; Escape closes; Enter then sends
    box.fill("")
    box.type("/compare_strategies strategy_1 ")
    assert page.locator(".cow-option-label").all_inner_texts() == ["strategy_2"]
    box.press("ArrowDown")
    box.press("Enter")
    assert box.input_value() == "/compare_strategies strategy_1 strategy_2 "
    assert not [m for m in sent(page) if m["type"] == "send"]
    box.press("Escape")
    box.press("Enter")
    assert sent(page)[-1] == {"type": "send", "text": "/compare_strategies strategy_1 strategy_2 "}


def test_progress_bar_fills_and_cancel(page):
    deliver(
        page,
        {
            "type": "progress",
            "runId": "run_1",
            "strategyId": "strategy_1",
            "progress": 40,
            "status": "running",
        },
    )
    run = page.locator('.cow-run[data-run="run_1"]')
    assert run.locator(".cow-bar").get_attribute("aria-valuenow") == "40"
    assert run.locator(".cow-run-pct").inner_text() == "40 %"
    run.locator(".cow-cancel").click()
    assert sent(page)[-1] == {"type": "cancel", "runId": "run_1"}
    # progress never goes backwards; the final event fills the bar and removes the cancel button
    deliver(page, {"type": "progress", "runId": "run_1", "progress": 30, "status": "running"})
    assert run.locator(".cow-bar").get_attribute("aria-valuenow") == "40"
    deliver(page, {"type": "progress", "runId": "run_1", "progress": 100, "status": "completed"})
    assert run.locator(".cow-run-pct").inner_text() == "100 %"
    width = page.evaluate(
        """() => { const r = document.querySelector('.cow-run[data-run="run_1"]');
                   return r.querySelector('.cow-bar-fill').getBoundingClientRect().width /
                          r.querySelector('.cow-bar').clientWidth; }"""
    )
    assert width > 0.95
    assert run.locator(".cow-cancel").count() == 0
    assert run.locator(".cow-run-status").inner_text() == "completed"


def _series(n: int, curves: dict | None = None) -> dict:
    t = [1_600_000_000 + 86_400 * i for i in range(n)]
    if curves is not None:
        return {"t": t, "curves": curves}
    equity = [1e6 * (1 + 0.001 * i) for i in range(n)]
    return {"t": t, "equity": equity, "drawdown": [-(i % 17) / 100 for i in range(n)]}


def test_backtest_comparison_and_sweep_results(page):
    stats = {"total_return": 0.1234, "sharpe": 1.2345, "max_drawdown": -0.2, "num_trades": 12}
    deliver(
        page,
        {
            "type": "result",
            "runId": "run_1",
            "kind": "backtest",
            "strategyId": "strategy_1",
            "stats": stats,
            "series": _series(300),
            "points": 300,
            "totalPoints": 5000,
        },
    )
    card = page.locator('.cow-result[data-run="run_1"]')
    assert "Backtest run_1" in card.inner_text()
    metrics = card.locator(".cow-metrics").inner_text()
    assert "Total return" in metrics and "12.34 %" in metrics and "1.234" in metrics
    assert card.locator(".uplot canvas").count() == 2  # equity + drawdown, drawn by uPlot
    assert "300 of 5000 points" in card.inner_text()

    n = 200
    curves = {
        "strategy_1": [1 + i / n for i in range(n)],
        "strategy_2": [1 - i / n / 2 for i in range(n)],
    }
    table = {
        "sharpe": {"strategy_1": 1.5, "strategy_2": -0.3},
        "total_return": {"strategy_1": 1.0, "strategy_2": -0.5},
    }
    deliver(
        page,
        {
            "type": "result",
            "runId": "run_2",
            "kind": "comparison",
            "strategies": ["strategy_1", "strategy_2"],
            "table": table,
            "series": _series(n, curves),
        },
    )
    comp = page.locator('.cow-result[data-run="run_2"]')
    header = comp.locator(".cow-comparison thead").inner_text()
    assert "strategy_1" in header and "strategy_2" in header
    assert comp.locator(".uplot canvas").count() == 1
    assert comp.locator(".u-legend").inner_text().count("strategy_") == 2  # overlaid curves

    rows = [{"fast": f, "slow": s, "sharpe": (f - s) / 100} for f in (5, 10, 15) for s in (40, 60)]
    deliver(
        page,
        {
            "type": "result",
            "runId": "run_3",
            "kind": "sweep",
            "template": "sma_cross",
            "symbol": "GOOG",
            "params": ["fast", "slow"],
            "rows": rows,
            "count": 6,
        },
    )
    sweep = page.locator('.cow-result[data-run="run_3"]')
    assert sweep.locator("canvas.cow-heat-canvas").count() == 1
    # clicking a cell backtests that combination (the best row behind the cell)
    click_cell(page, sweep, 2, 1)  # fast=15, slow=60
    assert sent(page)[-1] == {
        "type": "send",
        "text": "/run_backtest sma_cross symbol=GOOG fast=15 slow=60",
    }
    # a sweep with a split: out-of-sample columns next to the in-sample ones
    oos = [{**r, "oos_sharpe": r["sharpe"] / 2, "total_return": 0.1, "oos_total_return": -0.05}
           for r in rows]  # fmt: skip
    deliver(page, {"type": "result", "runId": "run_4", "kind": "sweep", "template": "sma_cross",
                   "symbol": "GOOG", "params": ["fast", "slow"], "rows": oos, "count": 6,
                   "split": "2021-01-01"})  # fmt: skip
    split = page.locator('.cow-result[data-run="run_4"]')
    assert "out of sample from 2021-01-01" in split.locator(".cow-card-title").inner_text()
    heads = split.locator(".cow-top th").all_inner_texts()
    assert split.locator(".cow-heat-edge").is_visible()  # the best cell is fast=15, the edge
    assert heads == ["fast", "slow", "Sharpe ratio", "Sharpe ratio (OOS)", "Total return",
                     "Total return (OOS)"]  # fmt: skip
    assert "-5.00 %" in split.locator(".cow-top").inner_text()


def cell_point(page, card, i: int, j: int) -> tuple[float, float]:
    """Page coordinates of grid cell (i, j) (x index, y index from the bottom) of a heatmap."""
    canvas = card.locator("canvas.cow-heat-canvas")
    box = canvas.bounding_box()
    geo = json.loads(canvas.get_attribute("data-plot"))
    x = box["x"] + geo["left"] + (i + 0.5) * geo["width"] / geo["cols"]
    y = box["y"] + geo["top"] + (geo["rows"] - 1 - j + 0.5) * geo["height"] / geo["rows"]
    return x, y


def click_cell(page, card, i: int, j: int) -> None:
    page.mouse.click(*cell_point(page, card, i, j))


def _grid(nx: int, ny: int, value, trades=lambda f, s: 20) -> list[dict]:
    return [
        {"fast": 2 + f, "slow": 10 + 2 * s, "sharpe": value(f, s), "num_trades": trades(f, s)}
        for f in range(nx)
        for s in range(ny)
    ]


def _sweep(run_id: str, rows: list[dict], **extra) -> dict:
    return {"type": "result", "runId": run_id, "kind": "sweep", "template": "sma_cross",
            "symbol": "ALPHA", "params": ["fast", "slow"], "rows": rows, "count": len(rows),
            "metric": "sharpe", **extra}  # fmt: skip


def test_big_sweep_heatmaps_are_one_bounded_canvas_card(page):
    import math

    for run_id, (nx, ny) in {"run_1k": (40, 25), "run_14k": (99, 146)}.items():
        rows = _grid(nx, ny, lambda f, s: math.sin(f / 7) * math.cos(s / 11))
        deliver(page, _sweep(run_id, rows, minTrades=5))
        card = page.locator(f'.cow-result[data-run="{run_id}"]')
        box = card.bounding_box()
        nodes = card.evaluate("(c) => c.querySelectorAll('*').length")
        assert box["width"] <= 720 and box["height"] < 600, (run_id, box)
        assert nodes < 120, (run_id, nodes)
        assert card.locator("canvas").count() == 1 and card.locator("td.cow-cell").count() == 0
        # hovering a cell reads out its parameters and value
        page.mouse.move(*cell_point(page, card, 0, 0))
        readout = card.locator(".cow-heat-readout").inner_text()
        assert readout.startswith("fast=2, slow=10: sharpe ") and "20 trades" in readout, readout
    # the big grid is aggregated: each bucket shows its best cell, the best is still clickable
    card = page.locator('.cow-result[data-run="run_14k"]')
    geo = json.loads(card.locator("canvas").get_attribute("data-plot"))
    assert geo["cols"] <= 99 and geo["rows"] < 146


def test_heatmap_colours_centre_on_zero_and_legend(page):
    # a no-trade 0 must not look like the best: zero is neutral grey, +0.04 leans blue
    rows = _grid(3, 3, lambda f, s: {(0, 0): 0.0, (1, 1): 0.04, (2, 2): -2.0}.get((f, s), 1.0))
    deliver(page, _sweep("run_c", rows))
    card = page.locator('.cow-result[data-run="run_c"]')

    def colour(i, j):
        x, y = cell_point(page, card, i, j)
        return card.locator("canvas").evaluate(
            """(c, [x, y]) => { const r = c.getBoundingClientRect(), d = devicePixelRatio;
                 return [...c.getContext('2d').getImageData((x - r.left) * d, (y - r.top) * d, 1, 1)
                   .data].slice(0, 3); }""",
            [x, y],
        )

    assert colour(0, 0) == [247, 247, 247]  # zero: neutral
    r, _g, b = colour(1, 1)
    assert b >= r and abs(r - 247) < 10  # +0.04: nearly neutral, towards blue
    assert colour(2, 2) == [178, 24, 43]  # the most negative: full red
    legend = card.locator(".cow-heat-legend").inner_text()
    assert legend.split() == ["sharpe", "-2.000", "0", "2.000"]  # symmetric, as format_stat


def test_min_trades_filter_and_edge_warning(page):
    # the best sharpe is a one-trade combination at the grid's corner
    def value(f, s):
        return 5.0 if (f, s) == (0, 0) else 1 - abs(f - 3) / 10 - abs(s - 3) / 10

    rows = _grid(7, 7, value, trades=lambda f, s: 1 if (f, s) == (0, 0) else 20)
    deliver(page, _sweep("run_m", rows, minTrades=5))
    card = page.locator('.cow-result[data-run="run_m"]')
    field = card.locator("input.cow-min-trades")
    assert field.input_value() == "5" and "default 5" in card.locator(".cow-heat-note").inner_text()
    top = card.locator(".cow-top tbody tr").first.locator("td").all_inner_texts()
    assert top[:2] == ["5", "16"]  # fast=5, slow=16: the interior optimum, not the 1-trade cell
    assert not card.locator(".cow-heat-edge").is_visible()
    field.fill("0")
    field.dispatch_event("change")
    top = card.locator(".cow-top tbody tr").first.locator("td").all_inner_texts()
    assert top[:2] == ["2", "10"]
    warning = card.locator(".cow-heat-edge")
    assert warning.is_visible() and "edge of the grid" in warning.inner_text()
    assert "fast=2" in warning.inner_text() and "slow=10" in warning.inner_text()


def test_markdown_is_sanitized_and_user_text_is_text(page):
    evil = (
        "**bold** and `code`\n\n"
        "<script>window.__pwned = 'script'</script>\n\n"
        "<img src=x onerror=\"window.__pwned = 'img'\">\n\n"
        "[click me](javascript:window.__pwned='link')\n\n"
        "<a href=\"javascript:window.__pwned='a'\" onclick=\"window.__pwned='onclick'\">a</a>\n\n"
        "<iframe src=\"javascript:window.__pwned='iframe'\"></iframe>"
    )
    history(
        page,
        [
            msg(1, "assistant", evil),
            msg(2, "user", "<b>not bold</b><img src=x onerror=\"window.__pwned='user'\">"),
        ],
    )
    page.wait_for_timeout(300)  # give any injected handler a chance to fire
    bubble = page.locator(".cow-assistant .cow-bubble").first
    assert bubble.locator("strong").inner_text() == "bold"
    assert bubble.locator("code").inner_text() == "code"
    assert (
        page.evaluate(
            "() => document.querySelectorAll('.cow-root script, .cow-root iframe').length"
        )
        == 0
    )
    attrs = page.evaluate(
        """() => [...document.querySelectorAll('.cow-root *')].flatMap((e) =>
             [...e.attributes].map((a) => a.name + '=' + a.value))"""
    )
    assert not [a for a in attrs if a.startswith("on") or "javascript:" in a.lower()]
    for link in bubble.locator("a").all():
        link.dispatch_event("click")
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.__pwned") is None
    user = page.locator(".cow-user .cow-bubble")
    assert user.inner_text().startswith("<b>not bold</b>")
    assert user.locator("b, img").count() == 0


def test_key_events_stay_inside_the_panel(page):
    assert page.locator(".cow-root").get_attribute("data-lm-suppress-shortcuts") == "true"
    box = page.locator(".cow-input")
    box.click()
    page.evaluate("() => { window.__docKeys = []; }")
    for key in ["a", "b", "d", "d", "m", "Shift+Enter", "Escape", "z"]:
        page.keyboard.press(key)
    assert page.evaluate("() => window.__docKeys") == []
    assert box.input_value() == "abddm\nz"
    # outside the panel keys do reach the document (the spy works)
    page.evaluate("() => document.body.focus()")
    page.mouse.click(850, 780)
    page.keyboard.press("a")
    assert "keydown:a" in page.evaluate("() => window.__docKeys")


def test_ten_thousand_messages_windowed(page):
    n = 10_000
    messages = json.dumps(
        [
            msg(i, ("user", "assistant", "system")[i % 3], f"message {i} " + "word " * (i % 40))
            for i in range(1, n + 1)
        ]
    )
    elapsed = page.evaluate(
        """(raw) => { const id = window.__model.sent.find((m) => m.type === 'ready').clientId;
            const t0 = performance.now();
            window.__model.deliver({type: 'history', to: id, messages: JSON.parse(raw)});
            return new Promise((r) => requestAnimationFrame(() => r(performance.now() - t0))); }""",
        messages,
    )
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))")
    nodes = page.evaluate("() => document.querySelectorAll('.cow-root *').length")
    rows = page.locator(".cow-row").count()
    assert rows < 100 and nodes < 1500, (rows, nodes)
    # stuck to the bottom: the last message is rendered and visible
    last = page.locator('.cow-row[data-seq="10000"]')
    assert last.count() == 1 and last.is_visible()
    # scroll to the top and through the middle: rows are created on demand
    page.evaluate("() => { document.querySelector('.cow-scroll').scrollTop = 0; }")
    page.wait_for_selector('.cow-row[data-seq="1"]')
    assert page.locator(".cow-jump").is_visible()  # user scrolled up: no auto-scroll
    page.evaluate(f"() => {{ const s = {SCROLL}; s.scrollTop = s.scrollHeight / 2; }}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.cow-row')]"
        ".some((r) => +r.dataset.seq > 4000 && +r.dataset.seq < 6000)"
    )
    top = page.evaluate("() => document.querySelector('.cow-scroll').scrollTop")
    deliver(page, {"type": "message", "message": msg(n + 1, "assistant", "new one")})
    assert page.evaluate("() => document.querySelector('.cow-scroll').scrollTop") == top
    assert page.locator('.cow-row[data-seq="10001"]').count() == 0
    page.locator(".cow-jump").click()
    page.wait_for_selector('.cow-row[data-seq="10001"]')
    assert page.locator(".cow-row").count() < 100
    # scroll through the whole history, one step per frame: rows stay bounded all along
    frames = page.evaluate(
        """async () => {
            const s = document.querySelector('.cow-scroll');
            const times = []; let most = 0;
            for (let i = 0; i <= 60; i++) {
                s.scrollTop = (s.scrollHeight - s.clientHeight) * (1 - i / 60);
                const t0 = performance.now();
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                times.push(performance.now() - t0);
                most = Math.max(most, document.querySelectorAll('.cow-row').length);
            }
            times.sort((a, b) => a - b);
            return {median: times[30], max: times[60], most};
        }"""
    )
    assert frames["most"] < 100
    assert page.locator('.cow-row[data-seq="1"]').count() == 1
    print(
        f"10k history applied + first frame in {elapsed:.0f} ms, {nodes} nodes in the panel; "
        f"scrolling: median {frames['median']:.1f} ms / max {frames['max']:.1f} ms per 2 frames"
    )


def test_autoscroll_sticks_to_bottom(page):
    history(page, [msg(i, "assistant", f"m{i}\n\nmore text") for i in range(1, 60)])
    for i in range(60, 70):
        deliver(page, {"type": "message", "message": msg(i, "user", f"m{i}")})
    gap = page.evaluate(
        f"() => {{ const s = {SCROLL}; return s.scrollHeight - s.scrollTop - s.clientHeight; }}"
    )
    assert gap < 5
    assert page.locator('.cow-row[data-seq="69"]').is_visible()


def test_empty_state_chip_and_session_switcher(page):
    empty = page.locator(".cow-empty")
    assert "Welcome" in empty.inner_text() and "/run_backtest strategy_1" in empty.inner_text()
    empty.locator(".cow-example", has_text="/run_backtest strategy_1").click()
    assert page.locator(".cow-input").input_value() == "/run_backtest strategy_1"
    chip = page.locator(".cow-chip")
    assert chip.inner_text() == "connected" and "cow-connected" in chip.get_attribute("class")
    assert page.locator(".cow-session").inner_text() == SESSION
    set_traits(page, connected=False, reconnect_attempt=2)
    assert chip.inner_text() == "disconnected · retry 2"
    color = chip.evaluate("(c) => getComputedStyle(c).color")
    assert color == "rgb(211, 47, 47)"  # red
    set_traits(page, connected=True, reconnect_attempt=0, session_id="session_other")
    assert chip.inner_text() == "connected"
    assert page.locator(".cow-session").inner_text() == "session_other"
    page.locator(".cow-sessions-btn").click()
    page.locator(".cow-session-input").fill("session_42")
    page.locator(".cow-join").click()
    assert sent(page)[-1] == {"type": "session", "action": "join", "id": "session_42"}
    page.locator(".cow-session-input").fill("")
    page.locator(".cow-new").click()
    assert sent(page)[-1] == {"type": "session", "action": "create"}
    page.locator(".cow-leave").click()
    assert sent(page)[-1] == {"type": "session", "action": "leave"}


def test_upload_csv_strategy_and_bad_file(page):
    csv = "Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,100\n"
    page.locator(".cow-file").set_input_files(
        files=[{"name": "MYSYM.csv", "mimeType": "text/csv", "buffer": csv.encode()}]
    )
    page.wait_for_function("() => window.__model.sent.some((m) => m.type === 'upload')")
    assert sent(page)[-1] == {"type": "upload", "name": "MYSYM.csv", "kind": "csv", "content": csv}
    spec = json.dumps({"template": "sma_cross", "symbol": "GOOG", "fast": 5, "slow": 20})
    page.locator(".cow-file").set_input_files(
        files=[{"name": "s.json", "mimeType": "application/json", "buffer": spec.encode()}]
    )
    page.wait_for_function(
        "() => window.__model.sent.filter((m) => m.type === 'upload').length === 2"
    )
    assert sent(page)[-1]["kind"] == "strategy"
    page.locator(".cow-file").set_input_files(
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"x"}]
    )
    notice = page.locator(".cow-notice")
    notice.wait_for()
    assert "expected a .csv data file or a .json strategy spec" in notice.inner_text()
    assert len([m for m in sent(page) if m["type"] == "upload"]) == 2


def test_a_reply_to_a_live_run_is_drawn_once_for_its_card(page):
    # the kernel sends a card for every run that completes while the panel is open: the reply
    # (which arrives before the card) leaves its tables to the card from the start, offers no
    # "show result", and is not drawn again when the card lands (no jump in the chat)
    history(page, [msg(1, "user", "/run_backtest strategy_1")])
    deliver(page, {"type": "progress", "runId": "run_5", "progress": 100, "status": "completed"})
    text = "**run_5** done\n\n| stat | value |\n|---|---|\n| sharpe | 1.2 |\n\nIn Python: x"
    meta = {"commandResult": {"runId": "run_5", "kind": "backtest"}}
    deliver(page, {"type": "message", "message": msg(2, "assistant", text, metadata=meta)})
    reply = page.locator('.cow-row[data-seq="2"]')
    assert "run_5" in reply.inner_text() and reply.locator("table").count() == 0
    assert reply.locator(".cow-show-result").count() == 0
    row = "document.querySelector('.cow-row[data-seq=\"2\"]')"
    page.evaluate(f"() => {{ window.__reply = {row}; }}")
    deliver(page, {"type": "result", "runId": "run_5", "kind": "backtest", "stats": {"sharpe": 1.2},
                   "series": _series(50)})  # fmt: skip
    assert page.locator('.cow-result[data-run="run_5"]').count() == 1
    same = page.evaluate(f"() => {row} === window.__reply")
    assert same, "the reply was drawn again when its card arrived"


def test_the_trades_table_is_built_when_opened(page):
    rows = [[f"2020-01-{d:02d}", f"2020-02-{d:02d}", "long", 100.0 + d, "signal"]
            for d in range(1, 21)]  # fmt: skip
    trade_rows = {"columns": ["entry_time", "exit_time", "direction", "pnl", "exit_reason"],
                  "rows": rows, "total": 20}  # fmt: skip
    deliver(page, {"type": "result", "runId": "run_6", "kind": "backtest", "stats": {},
                   "series": _series(50), "tradeRows": trade_rows})  # fmt: skip
    card = page.locator('.cow-result[data-run="run_6"]')
    assert "20 trades" in card.locator(".cow-trades-box summary").inner_text()
    assert card.locator(".cow-trades-box td").count() == 0  # closed: no cells yet
    card.locator(".cow-trades-box summary").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-run=\"run_6\"] .cow-trades-box tr').length > 20"
    )
    assert card.locator(".cow-trades-box td").count() == 20 * 5
    assert "2020-01-20" in card.locator(".cow-trades-box").inner_text()


def test_notice_from_kernel_and_show_result_button(page):
    cr = {"runId": "run_9", "kind": "backtest"}
    history(page, [msg(1, "assistant", "Backtest done", metadata={"commandResult": cr})])
    page.locator(".cow-show-result").click()
    assert sent(page)[-1] == {"type": "get_result", "runId": "run_9"}
    deliver(page, {"type": "notice", "level": "error", "text": "Upload failed: bad CSV"})
    assert "Upload failed: bad CSV" in page.locator(".cow-notice").inner_text()
    assert page.locator(".cow-notice-action").count() == 0
    # a notice with an action: one button, one click sends it back to the kernel
    replace = {"type": "replace_upload", "symbol": "MYSYM"}
    deliver(page, {"type": "notice", "level": "error", "text": "symbol MYSYM already exists",
                   "action": {"label": "Replace MYSYM", "send": replace}})  # fmt: skip
    button = page.locator(".cow-notice-action")
    assert button.count() == 1 and button.inner_text() == "Replace MYSYM"
    button.click()
    assert sent(page)[-1] == replace and button.is_disabled()
    # a malformed action shows the text without a button
    deliver(page, {"type": "notice", "level": "error", "text": "odd", "action": {"label": 3}})
    assert page.locator(".cow-notice").count() == 3 and button.count() == 1


def test_theme_follows_jupyterlab_variables_and_dark_hint(page):
    history(page, [msg(1, "user", "hi"), msg(2, "assistant", "hello")])
    bg = "() => getComputedStyle(document.querySelector('.cow-root')).backgroundColor"
    user_bg = (
        "() => getComputedStyle(document.querySelector('.cow-user .cow-bubble')).backgroundColor"
    )
    assert page.evaluate(bg) == "rgb(255, 255, 255)"  # fallback outside JupyterLab
    # JupyterLab's dark theme sets --jp-* variables on :root; the panel follows them
    page.evaluate(
        """() => { const s = document.documentElement.style;
            s.setProperty('--jp-layout-color1', 'rgb(17, 17, 17)');
            s.setProperty('--jp-brand-color1', 'rgb(66, 165, 245)');
            s.setProperty('--jp-ui-font-color1', 'rgb(230, 230, 230)'); }"""
    )
    assert page.evaluate(bg) == "rgb(17, 17, 17)"
    assert page.evaluate(user_bg) == "rgb(66, 165, 245)"
    fg = "() => getComputedStyle(document.querySelector('.cow-assistant .cow-bubble')).color"
    assert page.evaluate(fg) == "rgb(230, 230, 230)"
    # the theme hint forces dark colours even without JupyterLab's variables
    page.evaluate("() => document.documentElement.removeAttribute('style')")
    set_traits(page, theme="dark")
    assert page.evaluate(bg) == "rgb(30, 30, 30)"


def test_help_usage_lines_render_literally(page):
    # the server's `/help sweep` reply: the usage in bold, its placeholders in angle brackets
    usage = "/sweep <template> symbol=.. param=lo:hi:step [split=YYYY-MM-DD]"
    text = f"**{usage}**\n\nGrid-search a template's parameters.\n\nRanges are lo:hi:step."
    history(page, [msg(1, "assistant", text)])
    bubble = page.locator(".cow-assistant .cow-bubble")
    assert bubble.locator("strong").inner_text() == usage
    assert "Ranges are lo:hi:step." in bubble.inner_text()
    assert bubble.locator("template").count() == 0


def test_sending_while_scrolled_up_scrolls_to_the_bottom(page):
    history(page, [msg(i, "assistant", f"m{i}\n\nmore text") for i in range(1, 80)])
    page.evaluate(f"() => {{ {SCROLL}.scrollTop = 0; }}")
    page.wait_for_selector(".cow-jump.cow-show")
    # a message from someone else while scrolled up: the view stays, the button stays
    deliver(page, {"type": "message", "message": msg(80, "assistant", "from someone else")})
    assert page.evaluate(f"() => {SCROLL}.scrollTop") == 0
    assert page.locator(".cow-jump").is_visible()
    box = page.locator(".cow-input")
    box.click()
    box.type("/status")
    box.press("Escape")
    box.press("Enter")
    # the user's own command and its reply land in view
    deliver(page, {"type": "message", "message": msg(81, "user", "/status")})
    deliver(page, {"type": "message", "message": msg(82, "assistant", "no runs")})
    assert page.locator('.cow-row[data-seq="81"]').is_visible()
    assert page.locator('.cow-row[data-seq="82"]').is_visible()
    assert not page.locator(".cow-jump").is_visible()


def test_backtest_chart_readout_markers_and_benchmark(page):
    n = 300
    series = _series(n)
    series["position"] = [(1 if (i // 50) % 2 else 0) for i in range(n)]
    series["benchmark"] = [1e6 * (1 + 0.0005 * i) for i in range(n)]
    t = series["t"]
    trades = {"entry": [t[50], t[150]], "exit": [t[99], t[199]], "direction": [1, -1],
              "pnl": [1200.0, -300.0], "total": 2}  # fmt: skip
    deliver(page, {"type": "result", "runId": "run_c", "kind": "backtest", "strategyId": "s1",
                   "stats": {"sharpe": 1.0}, "series": series, "trades": trades})  # fmt: skip
    card = page.locator('.cow-result[data-run="run_c"]')
    plot = card.locator(".cow-plot").first
    assert plot.get_attribute("data-markers") == "4"  # two entries, two exits
    assert (
        "dashed: buy & hold" in card.inner_text() and "▲ long / ▼ short entry" in card.inner_text()
    )
    over = plot.locator(".u-over")
    box = over.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] / 2)
    readout = card.locator(".cow-chart-readout")
    page.wait_for_function(
        "(el) => el.textContent.includes('equity')", arg=readout.element_handle()
    )
    text = readout.inner_text()
    assert re.match(r"20\d\d-\d\d-\d\d ", text) and "equity 1,1" in text, text
    assert "drawdown -" in text, text
    assert "position long" in text or "position flat" in text
    assert "buy & hold 1,0" in text
    # the drawdown chart shares the cursor and the readout
    dd = card.locator(".cow-plot").nth(1).locator(".u-over").bounding_box()
    page.mouse.move(dd["x"] + 5, dd["y"] + dd["height"] / 2)
    page.wait_for_function(
        "(el) => el.textContent.startsWith('2020-09-1')", arg=readout.element_handle()
    )


def test_table_cells_do_not_wrap_in_a_narrow_panel(page):
    page.evaluate("() => { document.getElementById('root').style.width = '380px'; }")
    md = "| fast | slow | sharpe | total_return | max_drawdown |\n|---|---|---|---|---|\n"
    md += "| 10 | 30 | 1.23 | 45.67% | -12.34% |\n"
    history(page, [msg(1, "assistant", md)])
    stats = {"total_return": 0.1234, "cagr": 0.0456, "volatility": 0.2, "sharpe": 1.2345,
             "sortino": 1.9, "max_drawdown": -0.2, "win_rate": 0.55, "num_trades": 1234,
             "exposure": 0.6, "profit_factor": 1.4, "avg_trade_return": 0.001,
             "final_equity": 1234567.89, "start": "2015-01-02T00:00:00",
             "end": "2024-12-31T00:00:00", "bars": 2516, "cash": 1000000.0}  # fmt: skip
    deliver(page, {"type": "result", "runId": "run_w", "kind": "backtest", "stats": stats,
                   "strategyId": "strategy_1", "series": _series(50)})  # fmt: skip
    names = ["strategy_1", "strategy_2", "strategy_3"]
    table = {m: dict.fromkeys(names, v) for m, v in stats.items()}
    deliver(page, {"type": "result", "runId": "run_v", "kind": "comparison", "strategies": names,
                   "table": table})  # fmt: skip
    deliver(page, {"type": "message", "message": msg(2, "assistant", md)})
    cells = page.evaluate(
        """() => [...document.querySelectorAll(
               '.cow-table td, .cow-table th, .cow-md td, .cow-md th')]
             .map((c) => ({text: c.textContent, h: c.getBoundingClientRect().height,
                           lh: parseFloat(getComputedStyle(c).fontSize) * 2}))"""
    )
    assert len(cells) > 60
    wrapped = [c["text"] for c in cells if c["h"] > c["lh"] + 6]
    assert not wrapped, wrapped  # every cell on one line
    overflow = page.evaluate(
        """() => { const root = document.querySelector('.cow-root').getBoundingClientRect();
             return [...document.querySelectorAll('.cow-bubble, .cow-table-box, .cow-md table')]
               .filter((b) => b.getBoundingClientRect().right > root.right + 1).length; }"""
    )
    assert overflow == 0  # wide tables scroll inside their card instead


def test_template_runs_have_a_readable_label_in_the_tray(page):
    # a template run has no strategy id; the server's progress message names what runs
    deliver(page, {"type": "progress", "runId": "run_t", "strategyId": None, "progress": 10,
                   "status": "running", "message": "sma_cross"})  # fmt: skip
    label = page.locator('.cow-run[data-run="run_t"] .cow-run-label')
    assert label.inner_text() == "sma_cross (run_t)"
    deliver(page, {"type": "progress", "runId": "run_t", "progress": 10, "status": "failed",
                   "message": "no data for symbol NOPE"})  # fmt: skip
    assert label.inner_text() == "sma_cross (run_t)"  # an error is not a name
    assert "no data for symbol NOPE" in label.get_attribute("title")


def test_finished_runs_collapse_to_one_line(page):
    for i in range(1, 7):
        deliver(page, {"type": "progress", "runId": f"run_{i}", "strategyId": f"strategy_{i}",
                       "progress": 50, "status": "running"})  # fmt: skip
    tray = page.locator(".cow-tray")
    running = tray.bounding_box()["height"]
    for i in range(1, 7):
        deliver(page, {"type": "progress", "runId": f"run_{i}", "progress": 100 if i != 3 else 60,
                       "status": "completed" if i != 3 else "failed"})  # fmt: skip
    done = tray.bounding_box()["height"]
    assert done < 36 < running, (done, running)  # one line instead of six rows
    assert page.locator(".cow-run .cow-run-pct", has_text="100 %").count() == 5
    assert page.locator('.cow-run[data-run="run_3"] .cow-run-status').inner_text() == "failed"
    # a new run gets its full row above the finished ones
    deliver(page, {"type": "progress", "runId": "run_9", "progress": 5, "status": "running"})
    assert page.locator('.cow-run[data-run="run_9"] .cow-cancel').is_visible()
