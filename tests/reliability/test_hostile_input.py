"""Hostile input never reaches project code as an exception (issue 11, items 4 and 10).

Every input here used to end as an ``internal`` ack plus a traceback in the server log, or was
silently accepted as something else. Each must get a clear refusal (``bad_request``,
``invalid_session``, ``bad_argument`` or ``not_found``) with a message, and the server log must
stay free of tracebacks.
"""

from __future__ import annotations

import asyncio

import pytest
from reliability._harness import Serve, tracebacks
from reliability._peers import Peer

REFUSALS = {"bad_request", "invalid_session", "bad_argument", "not_found", "too_large"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    srv = Serve(tmp / "data", tmp / "serve.log").start()
    yield srv
    srv.stop()


def _refused(ack: dict, *codes: str) -> dict:
    assert isinstance(ack, dict) and ack.get("ok") is False, ack
    err = ack["error"]
    assert err["code"] in (codes or REFUSALS), err
    assert err["code"] != "internal" and len(err["message"]) > 10, err
    return err


def _no_tracebacks(server: Serve, since: int) -> None:
    found = tracebacks(server.log[since:])
    assert not found, f"{len(found)} traceback(s) in the server log; the first:\n{found[0]}"


async def _peer(server: Serve, session: str) -> Peer:
    peer = await Peer(server.url).connect()
    await peer.join(session)
    return peer


@pytest.mark.parametrize("last_seq", [2**63, 2**64, 10**30, -(2**63) - 1])
def test_join_with_a_last_seq_beyond_sqlite_integers_is_a_bad_request(server, arun, last_seq):
    mark = len(server.log)

    async def go():
        peer = await Peer(server.url).connect()
        try:
            ack = await peer.call("joinSession", {"sessionId": "session_seq", "lastSeq": last_seq})
            err = _refused(ack, "bad_request")
            assert "lastSeq" in err["message"]
            # the largest SQLite integer is still a valid lastSeq
            ok = await peer.call("joinSession", {"sessionId": "session_seq", "lastSeq": 2**63 - 1})
            assert ok["ok"] and ok["messages"] == [], ok
        finally:
            await peer.close()

    arun(go())
    _no_tracebacks(server, mark)


SWEEP_RANGES = [
    "fast=1:1e400:1",
    "fast=nan:nan:1",
    "fast=1:10:nan",
    "fast=0:1:1e-320",
    "fast=inf:inf:1",
    "fast=-inf:5:1",
    "fast=1:" + "9" * 400 + ":1",
    "fast=" + "9" * 400,
    "fast=1e308:1.7e308:1e300",
    "fast=5:50:5 slow=nan",
    "fast=5,nan,10",
    "fast=1:1e-400:1",
]


@pytest.mark.parametrize("ranges", SWEEP_RANGES)
def test_sweep_ranges_with_inf_nan_huge_or_tiny_bounds_are_bad_arguments(server, arun, ranges):
    mark = len(server.log)

    async def go():
        peer = await _peer(server, "session_ranges")
        try:
            res = await peer.command("session_ranges", f"/sweep sma_cross symbol=ALPHA {ranges}")
            assert res["ok"] is False, res
            assert res["error"]["code"] == "bad_argument", res["error"]
            assert "fast" in res["error"]["message"] or "slow" in res["error"]["message"]
        finally:
            await peer.close()

    arun(go())
    _no_tracebacks(server, mark)


@pytest.mark.parametrize(
    "option", ["start=0000-01-01", "start=0099-05-06", "end=0999-12-31", "start=0001-01-01"]
)
def test_years_below_1000_are_refused_not_silently_changed(server, arun, option):
    mark = len(server.log)

    async def go():
        peer = await _peer(server, "session_years")
        try:
            res = await peer.command("session_years", f"/run_backtest strategy_1 {option}")
            assert res["ok"] is False, f"{option} was accepted: {res}"
            assert res["error"]["code"] == "bad_argument", res["error"]
            assert option.split("=")[1] in res["error"]["message"], res["error"]
        finally:
            await peer.close()

    arun(go())
    _no_tracebacks(server, mark)


@pytest.mark.parametrize(
    "command",
    [
        "/run_backtest strategy_99999999999999999999",
        "/run_backtest strategy_9223372036854775808",
        "/compare_strategies strategy_1 strategy_99999999999999999999999999",
        "/run_backtest strategy_" + "9" * 500,
    ],
)
def test_strategy_ids_beyond_sqlite_integers_are_not_found(server, arun, command):
    mark = len(server.log)

    async def go():
        peer = await _peer(server, "session_ids")
        try:
            res = await peer.command("session_ids", command)
            assert res["ok"] is False, res
            assert res["error"]["code"] in ("not_found", "bad_argument"), res["error"]
        finally:
            await peer.close()

    arun(go())
    _no_tracebacks(server, mark)


def test_sort_by_an_unknown_column_is_refused(server, arun):
    async def go():
        peer = await _peer(server, "session_sort")
        try:
            res = await peer.command(
                "session_sort", "/sweep sma_cross symbol=ALPHA fast=5:10:5 slow=20 sort=nosuch"
            )
            assert res["ok"] is False, f"sort=nosuch was accepted: {res.get('summary')}"
            assert res["error"]["code"] == "bad_argument"
            assert "nosuch" in res["error"]["message"] and "sharpe" in res["error"]["message"]
        finally:
            await peer.close()

    arun(go())


@pytest.mark.parametrize("session_id", ["session_ok\n", "session_ok\r\n", "session_\nx"])
def test_a_session_id_with_a_trailing_newline_is_not_joinable(server, arun, session_id):
    async def go():
        peer = await Peer(server.url).connect()
        try:
            _refused(await peer.call("joinSession", session_id), "invalid_session")
            _refused(await peer.call("joinSession", {"sessionId": session_id}), "invalid_session")
        finally:
            await peer.close()

    arun(go())


def test_a_run_id_with_a_newline_is_refused_and_creates_nothing(server, arun):
    async def go():
        peer = await _peer(server, "session_runid")
        try:
            res = await peer.command("session_runid", '/run_backtest strategy_1 run_id="run_nl\n"')
            assert res["ok"] is False, res
            assert res["error"]["code"] == "bad_argument", res["error"]
            ack = await peer.call("getResult", {"sessionId": "session_runid", "runId": "run_nl\n"})
            _refused(ack)
        finally:
            await peer.close()

    arun(go())
    results = server.data_dir / "results"
    assert not [p.name for p in results.iterdir() if "\n" in p.name] if results.exists() else True


@pytest.mark.parametrize(
    "event, payload",
    [
        ("sendMessage", {"sessionId": "session_sur", "content": "bad \ud800 text"}),
        ("sendMessage", {"sessionId": "session_sur", "content": "x", "clientMessageId": "\udfff"}),
        ("executeCommand", {"sessionId": "session_sur", "command": "/help \ud83d"}),
        ("joinSession", {"sessionId": "session_sur", "name": "name \udc00"}),
        ("getResult", {"sessionId": "session_sur", "runId": "run_\ud800"}),
    ],
    ids=["content", "clientMessageId", "command", "name", "runId"],
)
def test_lone_surrogates_in_text_fields_are_a_bad_request(server, arun, event, payload):
    mark = len(server.log)

    async def go():
        peer = await _peer(server, "session_sur")
        try:
            _refused(await peer.call(event, payload), "bad_request", "invalid_session")
            # and the session still works
            ack = await peer.call("sendMessage", {"sessionId": "session_sur", "content": "fine"})
            assert ack["ok"], ack
        finally:
            await peer.close()

    arun(go())
    _no_tracebacks(server, mark)


def test_the_server_is_still_healthy_after_all_of_it(server, arun):
    mark = len(server.log)

    async def go():
        peers = await asyncio.gather(*(_peer(server, "session_after") for _ in range(3)))
        try:
            acks = await asyncio.gather(
                *(
                    p.call("sendMessage", {"sessionId": "session_after", "content": "ok"})
                    for p in peers
                )
            )
            assert all(a["ok"] for a in acks)
        finally:
            await asyncio.gather(*(p.close() for p in peers))

    assert server.alive
    arun(go())
    _no_tracebacks(server, mark)
