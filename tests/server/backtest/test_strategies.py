"""Stored strategies are shared through the SQLite store: several servers (or notebooks) on one
data dir allocate distinct ids and see each other's strategies.

Two real ``chatops-widget serve`` processes share a data dir; a kernel client on each creates a
strategy.
"""

from __future__ import annotations

import json
import sqlite3

from _support import free_port

from chatops_widget import ChatOpsClient
from chatops_widget.server.backtest.storage.strategies import StrategyStore, seed_specs


def test_two_servers_on_one_data_dir_allocate_distinct_ids(tmp_path, cli_server, wait_until):
    token, data = "strategies-token", tmp_path / "shared-data"
    ports = [free_port(), free_port()]
    for port in ports:
        cli_server(port, token, data)
    a = ChatOpsClient(f"http://127.0.0.1:{ports[0]}", token)
    b = ChatOpsClient(f"http://127.0.0.1:{ports[1]}", token)
    try:
        a.create_session("strategies-a")
        b.create_session("strategies-b")
        id_a = a.create_strategy("sma_cross", "ALPHA", name="from server one", fast=5, slow=20)
        id_b = b.create_strategy("ema_cross", "BRAVO", name="from server two", fast=8, slow=21)
        assert id_a != id_b
        assert {id_a, id_b} == {"strategy_6", "strategy_7"}  # after the 5 seeded ones, once
        for client in (a, b):  # each server reads the shared table, not a private copy
            frame = client.strategies  # getStrategies, answered by this client's server
            assert frame.index.tolist() == [f"strategy_{i}" for i in range(1, 8)]
            assert frame.loc[id_a, "name"] == "from server one"
            assert frame.loc[id_b, "name"] == "from server two"
            assert tuple(frame.loc[id_b, ["template", "symbol"]]) == ("ema_cross", "BRAVO")
        # and a strategy made on one server runs on the other
        run = b.trigger_backtest(id_a)
        assert run.result(timeout=60).params["fast"] == 5
    finally:
        a.close()
        b.close()


def test_store_allocates_atomically_seeds_once_and_migrates_json(tmp_path):
    legacy = {
        "next": 3,
        "strategies": [
            {"id": "strategy_1", "name": "old one", "template": "sma_cross",
             "params": {"fast": 10, "slow": 30}, "symbols": ["ALPHA"], "symbol": "ALPHA",
             "start": None, "end": None, "created_by": "seed", "created": 1.0},
            {"id": "strategy_2", "name": "old two", "template": "momentum", "params": {},
             "symbols": ["DELTA"], "symbol": "DELTA", "start": "2020-01-01", "end": None,
             "created_by": "sid", "created": 2.0},
        ],
    }  # fmt: skip
    (tmp_path / "strategies.json").write_text(json.dumps(legacy))
    one, two = StrategyStore(tmp_path), StrategyStore(tmp_path)
    assert one.ids() == ["strategy_1", "strategy_2"]  # migrated once, not twice
    assert two.get("strategy_2").start == "2020-01-01"
    assert not (tmp_path / "strategies.json").exists()
    specs = seed_specs(["ALPHA", "BRAVO"])
    one.seed(specs)
    two.seed(specs)  # a second server (or restart) seeds nothing more
    s3 = two.create("ema_cross", "BRAVO", params={"fast": 5, "slow": 9})
    s4 = one.create("sma_cross", "ALPHA", params={"fast": 3, "slow": 9})
    assert (s3.id, s4.id) == ("strategy_3", "strategy_4")
    assert one.get(s3.id) == s3 and two.get(s4.id) == s4
    assert len(one.all()) == 4 and one.get("strategy_1").name == "old one"
    with sqlite3.connect(tmp_path / "chatops.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM strategies").fetchone()[0] == 4
    fresh = StrategyStore(tmp_path / "fresh")
    fresh.seed(specs)
    StrategyStore(tmp_path / "fresh").seed(specs)
    assert [s.name for s in fresh.all()] == [s["name"] for s in specs]
    assert fresh.get("strategy_999") is None and fresh.get("nonsense") is None
