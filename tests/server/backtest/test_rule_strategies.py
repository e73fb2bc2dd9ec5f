"""Rule strategies and order settings over the wire: a real server (worker pool, SQLite store)
on loopback and raw socket.io clients.

``/create_strategy`` stores rules (the engine's dict, never code) addressable by id and by
name; they run, compare and sweep like templates (``split=`` too) and give the same numbers as
the engine run here; orders (stops, targets, sizing) are stored and overridable per run, chat
or typed (``startRun.orders``); bad rules are pointed at their character, bad orders name the
option, hostile rules are refused before any job exists; the assistant writes rule strategies
from English and Korean sentences.
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from chatops_widget import engine
from chatops_widget.server import EmbeddedServer, standard_plugins
from chatops_widget.server.backtest.storage.strategies import StrategyStore

DIP = ('/create_strategy name=dip symbol=ALPHA entry="rsi(14) < 30 and close > sma(200)" '
       'exit="rsi(14) > 70" stop_loss=5% take_profit=12%')  # fmt: skip
X = ('/create_strategy name=x entry="crosses_above(ema($fast), ema($slow))" '
     'exit="crosses_below(ema($fast), ema($slow))" fast=12 slow=26')  # fmt: skip
SWEEP = "/sweep x symbol=ALPHA fast=5:50:5 slow=20:200:10"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("rules-data")
    srv = EmbeddedServer(data_dir=data, plugins=standard_plugins()).start()  # with the assistant
    srv.data = data
    yield srv
    srv.stop()


async def _joined(raw_client_cls, srv, session_id):
    c = await raw_client_cls(srv.url, srv.token).connect()
    ack = await c.call("joinSession", session_id)
    assert ack["ok"], ack
    return c


async def _call(c, event, payload):
    """``c.call``, again after the server's ``retryAfter`` while it is rate limited (these
    tests send far more commands a second than the limit, as a client library would retry)."""
    ack = await c.call(event, payload)
    while not ack["ok"] and ack["error"]["code"] == "rate_limited":
        await asyncio.sleep(ack["error"]["retryAfter"])
        ack = await c.call(event, payload)
    return ack


async def _run(c, session_id, text, timeout=60.0):
    """Send a command; return its (new) commandResult."""
    before = [r for r in c.of("commandResult") if r["command"] == text]
    ack = await _call(c, "executeCommand", {"sessionId": session_id, "command": text})
    assert ack["ok"], ack
    return await c.wait_event(
        "commandResult", lambda r: r["command"] == text and r not in before, timeout=timeout
    )


async def _reply(c, sid, text):
    """Send a command; return the assistant message with its reply text."""
    res = await _run(c, sid, text)
    assert res["ok"], res
    msg = await c.wait_event(
        "message",
        lambda m: (
            m["role"] == "assistant"
            and (m.get("metadata") or {}).get("commandResult", {}).get("command") == text
        ),
    )
    return msg["content"]


async def _ok(c, sid, text):
    res = await _run(c, sid, text)
    assert res["ok"], (text, res.get("error"))
    return res["summary"]


def _local(strategy, params=None, **orders):
    return engine.backtest(engine.catalog.get("ALPHA"), strategy, params or {}, **orders)


def test_the_issues_examples_create_run_compare_and_sweep(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_rules_examples"
        c = await _joined(raw_client_cls, server, sid)
        made = await _ok(c, sid, DIP)
        dip_id = made["strategyId"]
        stored = made["strategy"]
        assert stored["name"] == "dip" and stored["template"] == "rule"
        assert stored["rule"]["entry"] == "rsi(14) < 30 and close > sma(200)"
        assert stored["orders"] == {"stop_loss": 0.05, "take_profit": 0.12}
        again = await _ok(c, sid, DIP)  # a notebook cell run twice: the same strategy
        assert again["strategyId"] == dip_id and again["existed"] and not made["existed"]
        x = (await _ok(c, sid, X))["strategy"]
        assert x["symbols"] == [] and x["params"] == {"fast": 12, "slow": 26}

        # by name and by id: one strategy, the engine's numbers, stops in the trades
        by_name = await _ok(c, sid, "/run_backtest dip")
        by_id = await _ok(c, sid, f"/run_backtest {dip_id}")
        assert by_name["stats"] == by_id["stats"] and by_name["strategyId"] == dip_id
        rule = engine.RuleStrategy(entry="rsi(14) < 30 and close > sma(200)", exit="rsi(14) > 70",
                                   name="dip")  # fmt: skip
        local = _local(rule, stop_loss=0.05, take_profit=0.12)
        for stat in ("total_return", "sharpe", "num_trades", "sqn", "avg_trade_duration",
                     "bars_per_year", "buy_hold_return", "kelly"):  # fmt: skip
            got = by_name["stats"][stat]  # NaN travels as null
            assert (float("nan") if got is None else got) == pytest.approx(
                local.stats[stat], nan_ok=True
            ), stat
        assert by_name["orders"] == {"stop_loss": 0.05, "take_profit": 0.12}
        assert by_name["rule"] == {"entry": rule.rules["entry"], "exit": rule.rules["exit"]}
        assert by_name["exits"] == local.trades["exit_reason"].value_counts().to_dict()
        assert by_name["template"] == "dip"

        # a stored strategy without a symbol runs on the one given (like a template)
        xs = await _ok(c, sid, "/run_backtest x symbol=BRAVO fast=10")
        assert xs["symbol"] == "BRAVO" and xs["params"] == {"fast": 10, "slow": 26}

        # the sweep of the issue: every combination, each equal to its single backtest
        sweep = await _ok(c, sid, SWEEP)
        assert sweep["count"] == 10 * 19 and sweep["template"] == "x"
        best = sweep["rows"][0]
        single = _local(engine.RuleStrategy.from_dict({**x["rule"], "name": "x"}),
                        {"fast": best["fast"], "slow": best["slow"]})  # fmt: skip
        assert best["sharpe"] == pytest.approx(single.stats["sharpe"])
        split = await _ok(c, sid, f"{SWEEP} split=2021-01-01 stop_loss=3%")
        assert "oos_sharpe" in split["rows"][0] and split["orders"] == {"stop_loss": 0.03}

        # a stored strategy is a template too: a variant with other params, symbol and orders
        variant = await _ok(c, sid, "/create_strategy x symbol=bravo fast=8 stop_loss=4% "
                                    "name=x_bravo")  # fmt: skip
        v = variant["strategy"]
        assert (v["template"], v["symbols"]) == ("rule", ["BRAVO"])
        assert v["params"] == {"fast": 8, "slow": 26}
        assert v["rule"]["entry"] == x["rule"]["entry"] and v["orders"] == {"stop_loss": 0.04}
        loose = (await _ok(c, sid, "/create_strategy x slow=30 name=x_30"))["strategy"]
        assert loose["symbols"] == [] and loose["params"] == {"fast": 12, "slow": 30}
        tight = await _ok(c, sid, "/create_strategy dip take_profit=none name=dip_open")
        assert tight["strategy"]["orders"] == {"stop_loss": 0.05}
        assert tight["strategy"]["symbols"] == ["ALPHA"]

        # comparisons by name, with orders for all
        cmp = await _ok(c, sid, "/compare_strategies dip x strategy_1 take_profit=20%")
        assert cmp["strategies"] == [dip_id, x["id"], "strategy_1"]
        assert set(cmp["table"]["sqn"]) == {dip_id, x["id"], "strategy_1"}
        assert "bars_per_year" in cmp["table"]

        listing = await _reply(c, sid, "/strategies")
        assert "rule: enter when `rsi(14) < 30 and close > sma(200)`" in listing
        assert "stop_loss 5.00 %, take_profit 12.00 %" in listing
        templates = await _reply(c, sid, "/templates")
        assert "crosses_above(sma($fast), sma($slow))" in templates
        assert "`rsi([series=close], [window=14])`" in templates
        assert "exits: take_profit" in await _reply(c, sid, "/run_backtest dip")
        help_ = await _reply(c, sid, "/help create_strategy")
        assert 'entry="rsi(14) < 30' in help_ and "stop_loss" in help_
        await c.close()

    arun(scenario(), timeout=300)


def test_orders_are_stored_overridden_and_typed(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_rules_orders"
        c = await _joined(raw_client_cls, server, sid)
        s = await _ok(c, sid, "/create_strategy sma_cross symbol=ALPHA fast=10 slow=30 "
                              "name=sma_tight stop_loss=2% size=50%")  # fmt: skip
        assert s["strategy"]["orders"] == {"stop_loss": 0.02, "size": 0.5}
        stored = await _ok(c, sid, "/run_backtest sma_tight")
        want = _local("sma_cross", {"fast": 10, "slow": 30}, stop_loss=0.02, size=0.5)
        assert stored["stats"]["total_return"] == pytest.approx(want.stats["total_return"])
        # per run: another stop, no size (units replaces it), the stop removed
        over = await _ok(c, sid, "/run_backtest sma_tight stop_loss=0.04 units=100")
        assert over["orders"] == {"stop_loss": 0.04, "units": 100.0}
        bare = await _ok(c, sid, "/run_backtest sma_tight stop_loss=none size=none")
        assert "orders" not in bare and bare["exits"].keys() <= {"signal", "end"}

        # typed: startRun.orders is the same request, echoed as the command it equals
        req = {
            "sessionId": sid,
            "kind": "backtest",
            "targets": ["sma_tight"],
            "orders": {"stop_loss": 0.04, "trailing_stop": "atr(14)*3"},
            "runId": "run_typed_o",
        }
        ack = await c.call("startRun", req)
        assert ack["ok"], ack
        text = "/run_backtest sma_tight stop_loss=0.04 trailing_stop='atr(14)*3'"
        assert ack["message"]["content"] == text
        typed = await c.wait_event("commandResult", lambda r: r.get("runId") == "run_typed_o")
        chat = await _ok(c, sid, text)
        assert typed["summary"]["stats"] == chat["stats"]
        assert chat["orders"] == {"stop_loss": 0.04, "trailing_atr": [14, 3.0], "size": 0.5}
        await c.close()

    arun(scenario(), timeout=180)


BAD = [
    # pointed at the character, as the engine says it
    ('/create_strategy name=bad1 entry="rsl(14) < 30" exit="rsi(14) > 70"', "bad_argument",
     "entry: unknown function 'rsl' at 1 (did you mean 'rsi'?)"),
    ('/create_strategy name=bad2 entry="rsi(14) < 30" exit="rsi(14) > 70 and"', "bad_argument",
     "exit: 'and' needs a condition on both sides at 14"),
    ('/create_strategy name=bad3 entry="ema($fast) > 1" exit="close < 1"', "bad_argument",
     "$fast at 5 has no default; give it as an option, e.g. fast=10"),
    ('/create_strategy name=bad4 entry="close > 1" exit="close < 1" fats=3', "bad_argument",
     "'fats' is not used by any rule"),
    ('/create_strategy name=bad5 entry="close > 1" symbl=ALPHA exit="close < 1"', "bad_argument",
     "did you mean symbol"),
    ('/create_strategy name=bad6 entry="close > 1"', "bad_argument", 'needs exit=, e.g. exit="'),
    ('/create_strategy name=bad7 symbol=ALPHA entry="sma(5000) > 1" exit="close < 1"',
     "bad_argument", "needs more than"),
    ('/create_strategy sma_cross name=bad8 entry="close > 1" exit="close < 1"', "bad_argument",
     "takes no template"),
    # names
    ('/create_strategy name=sma_cross entry="close > 1" exit="close < 1"', "bad_argument",
     "is a template's name"),
    ('/create_strategy name=strategy_9 entry="close > 1" exit="close < 1"', "bad_argument",
     "looks like an id"),
    ('/create_strategy name=DIP2 entry="close > 1" exit="close < 1"', "bad_argument",
     "is taken by strategy_"),
    # orders name the option and say what is right
    ("/run_backtest dip2 stop_loss=5", "bad_argument", "stop_loss is a fraction of the entry"),
    ("/run_backtest dip2 risk=1%", "bad_argument", "needs stop_loss= (e.g. stop_loss=0.05)"),
    ("/run_backtest dip2 size=0.5 units=10", "bad_argument", "give one way of sizing"),
    ("/run_backtest dip2 trailing_stop=atr(x)", "bad_argument", "trailing_atr must look like"),
    ("/run_backtest dip2 whole_units=maybe", "bad_argument", "whole_units must be true or false"),
    ("/run_backtest dip2 take_profit=lots", "bad_argument", "take_profit must be a number"),
    ("/run_backtest dipp", "not_found", "did you mean dip"),
    ("/compare_strategies dip2 sma_cross", "not_found", "is a template, not a stored strategy"),
]  # fmt: skip

HOSTILE = [
    "(" * 300 + "close" + ")" * 300 + " > 1",
    " and ".join(["close > 1"] * 120),  # 1,500 characters: over the rule limit
    "__import__('os').system('touch /tmp/pwned') > 0",
    "close.__class__ > 1",
    "(lambda: close)() > 1",
    "[c for c in close] > 1",
    "sma(" * 60 + "close" + ", 2)" * 60 + " > 1",
    "close[99999999999] > 1",
    "sma(close, 10 ** 9) > 1",
    'open("/etc/passwd") > 1',
    "close > 1e400",
    "x" * 1500,
]


def test_bad_rules_and_orders_get_clear_errors_and_hostile_rules_start_nothing(
    server, raw_client_cls, arun
):
    async def scenario():
        sid = "session_rules_bad"
        c = await _joined(raw_client_cls, server, sid)
        await _ok(c, sid, '/create_strategy name=dip2 entry="rsi(14) < 30" exit="rsi(14) > 70"')
        for text, code, needle in BAD:
            res = await _run(c, sid, text)
            assert not res["ok"], text
            assert res["error"]["code"] == code, (text, res["error"])
            assert needle in res["error"]["message"], (text, res["error"]["message"])
        typed = {"sessionId": sid, "kind": "backtest", "targets": ["dip2"]}
        for orders, code, needle in [
            ({"stop_loss": 7}, "bad_argument", "stop_loss is a fraction"),
            ({"stop_loss": "x" * 41}, "bad_request", "stop_loss"),
            (
                {"trailing": 0.1},
                "bad_request",
                "unknown field 'orders.trailing' (allowed: stop_loss",
            ),
        ]:
            ack = await _call(c, "startRun", {**typed, "orders": orders})
            assert not ack["ok"] and ack["error"]["code"] == code, (orders, ack)
            assert needle in ack["error"]["message"], ack
        for i, rule in enumerate(HOSTILE):
            text = f"/create_strategy name=h{i} symbol=ALPHA entry={rule!r} exit='close < 1'"
            res = await _run(c, sid, text)
            assert not res["ok"] and res["error"]["code"] == "bad_argument", (rule[:60], res)
        huge = f"/create_strategy name=h entry='{'close > 1 and ' * 400}' exit='close < 1'"
        ack = await _call(c, "executeCommand", {"sessionId": sid, "command": huge})
        assert not ack["ok"] and ack["error"]["code"] == "too_large", ack
        runs = (await c.call("getRuns", {"sessionId": sid}))["runs"]
        assert runs == []  # nothing ran: every refusal came before a job
        names = {s["name"] for s in (await c.call("getStrategies", {"sessionId": sid}))[
            "strategies"]}  # fmt: skip
        assert not any(n.startswith(("h", "bad")) for n in names)
        ok = await _ok(c, sid, "/run_backtest dip2")  # and the server keeps working
        assert ok["stats"]["num_trades"] >= 0
        await c.close()

    arun(scenario(), timeout=240)


def test_the_assistant_writes_rule_strategies_in_english_and_korean(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_rules_assistant"
        c = await _joined(raw_client_cls, server, sid)
        for text in (
            "make a strategy that buys when RSI 14 is under 30 and sells above 70 with a 5% stop",
            "RSI 14가 30 아래면 사고 70 위면 파는 전략 만들어줘, 손절 5%",
        ):
            want = '/create_strategy entry="rsi(14) < 30" exit="rsi(14) > 70" stop_loss=5%'
            seen = [r for r in c.of("commandResult") if r["command"] == want]
            ack = await c.call("sendMessage", {"sessionId": sid, "content": text})
            assert ack["ok"], ack
            res = await c.wait_event(
                "commandResult", lambda r, w=want, s=seen: r["command"] == w and r not in s
            )
            assert res["ok"], res
            made = res["summary"]["strategy"]
            assert made["rule"]["exit"] == "rsi(14) > 70" and made["orders"] == {"stop_loss": 0.05}
            assert made["name"].startswith("rule_")
        run = await _ok(c, sid, f"/run_backtest {made['name']}")
        assert run["orders"] == {"stop_loss": 0.05}
        await c.close()

    arun(scenario(), timeout=120)


def test_rule_strategies_survive_a_restart_and_old_databases_gain_the_columns(tmp_path):
    db = tmp_path / "chatops.sqlite3"
    with sqlite3.connect(db) as con:  # the schema before rule strategies
        con.execute(
            "CREATE TABLE strategies (n INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
            "template TEXT NOT NULL, params TEXT NOT NULL, symbols TEXT NOT NULL, start TEXT, "
            '"end" TEXT, created_by TEXT, created REAL NOT NULL)'
        )
        con.execute(
            "INSERT INTO strategies (name, template, params, symbols, created) VALUES "
            "('old', 'sma_cross', '{}', '[\"ALPHA\"]', 1.0)"
        )
    rule = engine.RuleStrategy(entry="close > sma($n)", exit="close < sma($n)", params={"n": 50})
    one, two = StrategyStore(tmp_path), StrategyStore(tmp_path)  # both add the columns, once
    s = one.create("rule", None, params={"n": 50}, rule=rule.to_dict(), orders={"size": 0.5})
    again = two.get(s.id)
    assert again.rule == rule.to_dict() and again.orders == {"size": 0.5} and again.symbols == []
    assert again.name == f"rule_{s.id.split('_')[1]}"
    assert engine.RuleStrategy.from_dict(again.rule) == rule
    assert two.get("strategy_1").rule is None and two.get("strategy_1").orders == {}
    assert [x.id for x in two.named("OLD")] == ["strategy_1"]
