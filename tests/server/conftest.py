"""A server with a demo plugin (commands beside /help, a join extra and an extra event) to
exercise the host's success and failure paths."""

from __future__ import annotations

import asyncio

import pytest

from chatops_widget.protocol import ErrorCode, ProtocolError
from chatops_widget.server import CommandContext, CommandReply, EmbeddedServer, Host, command


class DemoPlugin:
    """Demo commands, a join-ack field and an ``echoDemo`` event."""

    name = "demo"

    def register(self, host: Host) -> None:
        host.router.include(self)
        host.on_join(lambda session_id: {"strategies": [{"id": "strategy_1"}]})
        host.on_event("echoDemo", self.echo)

    @command(
        "run_demo",
        usage="/run_demo <strategy_id> [fast=<int>]",
        summary="Pretend to run a backtest.",
        details="Emits backtestProgress 50 and 100, then replies with the parsed arguments.",
    )
    async def run_demo(self, ctx: CommandContext) -> CommandReply:
        if not ctx.command.args:
            raise ProtocolError(ErrorCode.BAD_ARGUMENT, "usage: /run_demo <strategy_id>")
        fast = ctx.command.options.get("fast", "10")
        if not fast.isdigit():
            raise ProtocolError(ErrorCode.BAD_ARGUMENT, f"fast must be an integer, got {fast!r}")
        for pct in (50, 100):
            await ctx.emit(
                "backtestProgress",
                {
                    "runId": "run_1",
                    "sessionId": ctx.session_id,
                    "progress": pct,
                    "status": "running" if pct < 100 else "completed",
                },
            )
            await asyncio.sleep(0)
        return CommandReply(
            {"kind": "demo", "args": ctx.command.args, "fast": int(fast)},
            run_id="run_1",
            text=f"ran **{ctx.command.args[0]}** with fast={fast}",
        )

    @command("crash_demo", usage="/crash_demo", summary="Always fails unexpectedly.")
    async def crash_demo(self, ctx: CommandContext) -> CommandReply:
        raise RuntimeError("boom")

    async def echo(self, sid, data):
        if not isinstance(data, dict):
            raise ProtocolError(ErrorCode.BAD_REQUEST, "echoDemo: expected an object")
        return {"echo": data, "binary": b"\x00\x01"}


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    srv = EmbeddedServer(
        data_dir=tmp_path_factory.mktemp("demo-data"), plugins=[DemoPlugin()]
    ).start()
    yield srv
    srv.stop()
