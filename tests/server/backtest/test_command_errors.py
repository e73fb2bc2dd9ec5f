"""Clear errors for mistyped commands, over the wire: a real server on loopback and a raw
python-socketio client. Each error says what was wrong and what would be right."""

from __future__ import annotations

import pytest

from chatops_widget.protocol import MAX_COMMAND_CHARS
from chatops_widget.server import EmbeddedServer, standard_plugins


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("errors-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


async def _failed(c, session_id, text):
    """Run a command that must fail; return its error (also sent as an ``error`` event)."""
    ack = await c.call("executeCommand", {"sessionId": session_id, "command": text})
    assert ack["ok"], ack
    res = await c.wait_event("commandResult", lambda r: r["command"] == text)
    assert not res["ok"], res
    msg = res["error"]["message"]
    await c.wait_event("error", lambda e: e["message"] == msg)
    return res["error"]


def _check(server, raw_client_cls, arun, session_id, cases):
    async def scenario():
        c = await raw_client_cls(server.url, server.token).connect()
        assert (await c.call("joinSession", session_id))["ok"]
        for text, code, needles, absent in cases:
            err = await _failed(c, session_id, text)
            assert err["code"] == code, (text, err)
            for needle in needles:
                assert needle in err["message"], (text, err["message"])
            for word in absent:
                assert word not in err["message"], (text, err["message"])
        ok = await c.call("executeCommand", {"sessionId": session_id, "command": "/status"})
        assert ok["ok"]  # the session keeps working
        await c.close()

    arun(scenario())


def test_unknown_strategy_id_suggests_only_close_ids(server, raw_client_cls, arun):
    cases = [
        ("/run_backtest strategy_999", "not_found",
         ["unknown strategy 'strategy_999'; stored strategies: strategy_1..strategy_5 "],
         ["did you mean", "strategy_1 or"]),
        ("/compare_strategies strategy_1 strategy_7", "not_found", ["'strategy_7'"],
         ["did you mean"]),
    ]  # fmt: skip
    _check(server, raw_client_cls, arun, "session_err_ids", cases)


def test_an_open_ended_date_range_error_names_the_range_and_the_data(server, raw_client_cls, arun):
    cases = [
        ("/run_backtest strategy_1 start=2030-01-01", "bad_argument",
         ["no ALPHA bars from 2030-01-01 on; data covers 2015-01-02..2024-12-31"], ["None"]),
        ("/run_backtest sma_cross symbol=BRAVO end=2001-05-01", "bad_argument",
         ["no BRAVO bars up to 2001-05-01; data covers 2015-01-02..2024-12-31"], ["None"]),
    ]  # fmt: skip
    _check(server, raw_client_cls, arun, "session_err_dates", cases)


def test_an_oversized_command_is_too_large_like_oversized_content(server, raw_client_cls, arun):
    async def scenario():
        c = await raw_client_cls(server.url, server.token).connect()
        assert (await c.call("joinSession", "session_err_size"))["ok"]
        text = "/run_backtest strategy_1 name=" + "x" * MAX_COMMAND_CHARS
        ack = await c.call("executeCommand", {"sessionId": "session_err_size", "command": text})
        assert not ack["ok"] and ack["error"]["code"] == "too_large", ack
        assert f"the limit is {MAX_COMMAND_CHARS}" in ack["error"]["message"]
        ok = await c.call("executeCommand", {"sessionId": "session_err_size", "command": "/help"})
        assert ok["ok"], ok
        await c.close()

    arun(scenario())


def test_a_bare_param_name_asks_for_a_value(server, raw_client_cls, arun):
    cases = [
        ("/run_backtest strategy_1 fast", "bad_argument",
         ["`fast` needs a value, e.g. fast=10"], []),
        ("/run_backtest sma_cross slow", "bad_argument",
         ["`slow` needs a value, e.g. slow=30"], []),
        ("/create_strategy sma_cross symbol=ALPHA fast", "bad_argument",
         ["`fast` needs a value, e.g. fast=10"], []),
        ("/sweep sma_cross symbol=ALPHA fast", "bad_argument",
         ["`fast` needs a value, e.g. fast=5:50:5"], []),
    ]  # fmt: skip
    _check(server, raw_client_cls, arun, "session_err_bare", cases)


def test_a_sweep_without_a_grid_asks_for_a_range(server, raw_client_cls, arun):
    cases = [
        ("/sweep sma_cross symbol=ALPHA", "bad_argument",
         ["give at least one parameter range, e.g. fast=5:50:5"], []),
        ("/sweep buy_and_hold symbol=ALPHA", "bad_argument",
         ["buy_and_hold has no parameters to sweep"], []),
    ]  # fmt: skip
    _check(server, raw_client_cls, arun, "session_err_grid", cases)


def test_listing_commands_reject_unexpected_arguments(server, raw_client_cls, arun):
    cases = [
        (f"/{name} {extra}", "bad_argument", [f"/{name} takes no arguments", "Usage"], [])
        for name in ("data", "strategies", "templates", "status")
        for extra in ("x", "symbol=ALPHA")
    ]
    _check(server, raw_client_cls, arun, "session_err_noargs", cases)
