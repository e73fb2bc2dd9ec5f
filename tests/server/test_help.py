"""``/help`` on the real server: commands in the order of use, each with an example that works."""

from __future__ import annotations

import pytest

from chatops_widget.server import EmbeddedServer, standard_plugins
from chatops_widget.server.grammar import parse_command

ORDER = ["run_backtest", "compare_strategies", "sweep", "walkforward", "status", "cancel", "result",
         "strategies", "create_strategy", "data", "templates", "help"]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("help-data"), plugins=standard_plugins(assistant=False)
    ).start()
    yield srv
    srv.stop()


async def _run(c, sid, text, timeout=60.0):
    ack = await c.call("executeCommand", {"sessionId": sid, "command": text})
    assert ack["ok"], (text, ack)
    return await c.wait_event("commandResult", lambda r: r["command"] == text, timeout=timeout)


def test_help_lists_commands_in_order_of_use_with_an_example_each(server, raw_client_cls, arun):
    async def scenario():
        sid = "session_help_order"
        c = await raw_client_cls(server.url, server.token).connect()
        ack = await c.call("joinSession", sid)
        assert [s["name"] for s in ack["commands"]] == ORDER  # the panel gets the same order
        assert server.server.router.names() == sorted(ORDER)  # suggestions stay sorted
        res = await _run(c, sid, "/help")
        specs = res["summary"]["commands"]
        assert [s["name"] for s in specs] == ORDER
        text = (await c.wait_event("message", lambda m: m["role"] == "assistant"))["content"]
        lines = [ln for ln in text.splitlines() if ln.startswith("- `/")]
        assert [ln.split()[1].strip("`/") for ln in lines] == ORDER
        for spec, line in zip(specs, lines, strict=True):
            example = spec["example"]
            assert example and parse_command(example).name == spec["name"], spec
            assert f"Example: `{example}`" in line
        one = await _run(c, sid, "/help sweep")
        assert one["summary"]["command"]["example"].startswith("/sweep sma_cross symbol=")
        reply = await c.wait_event(
            "message", lambda m: m["role"] == "assistant" and m["content"].startswith("**/sweep")
        )
        assert (
            reply["content"].startswith("**/sweep <strategy | template>")
            and "Example: `/sweep" in reply["content"]
        )

        # every example works as typed (a run id example gets a real run's id)
        run = await _run(c, sid, next(s["example"] for s in specs if s["name"] == "run_backtest"))
        assert run["ok"], run
        for spec in specs:
            if spec["name"] in ("run_backtest", "cancel"):  # cancel needs a run still going
                continue
            example = spec["example"].replace("run_3fa2b1c4d5e6", run["runId"])
            res = await _run(c, sid, example)
            assert res["ok"], (example, res)
        await c.close()

    arun(scenario(), timeout=180)
