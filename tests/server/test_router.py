"""The command grammar and router, without a network."""

from __future__ import annotations

import pytest

from chatops_widget.protocol import ErrorCode, ProtocolError
from chatops_widget.server.grammar import ParsedCommand, parse_command, suggest
from chatops_widget.server.router import CommandRouter, command


def test_parse_positional_options_and_quotes():
    cmd = parse_command('/Run_Backtest strategy_1 GOOG fast=10 note="two words" start=2020-01-01')
    assert cmd == ParsedCommand(
        name="run_backtest",
        args=["strategy_1", "GOOG"],
        options={"fast": "10", "note": "two words", "start": "2020-01-01"},
        text='/Run_Backtest strategy_1 GOOG fast=10 note="two words" start=2020-01-01',
    )
    assert parse_command("/help").args == [] and parse_command("  /help  ").name == "help"
    assert parse_command("/x a=b=c").options == {"a": "b=c"}


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("help", "starts with '/'"),
        ("", "starts with '/'"),
        ("/", "not a command name"),
        ("/9lives", "not a command name"),
        ("/x 'open", "close every quote"),
        ("/x =1", "no name before '='"),
        ("/x a-b!=1", "not valid"),
        ("/x k=1 k=2", "given twice"),
    ],
)
def test_parse_errors_are_bad_argument_with_a_hint(text, fragment):
    with pytest.raises(ProtocolError) as info:
        parse_command(text)
    assert info.value.code == ErrorCode.BAD_ARGUMENT and fragment in info.value.message


def test_router_registers_resolves_and_suggests():
    class Group:
        @command("run_backtest", usage="/run_backtest <id>", summary="Run.", details="More.")
        async def run(self, ctx):  # pragma: no cover - not called here
            raise AssertionError

    r = CommandRouter()
    r.include(Group())
    assert [s["name"] for s in r.specs()] == ["run_backtest", "help"]  # order of use
    assert r.names() == ["help", "run_backtest"]  # sorted, for suggestions
    assert r.resolve("/RUN_BACKTEST").usage == "/run_backtest <id>"
    with pytest.raises(ProtocolError) as info:
        r.resolve("run_bactest")
    assert info.value.code == ErrorCode.UNKNOWN_COMMAND
    assert "Did you mean /run_backtest?" in info.value.message
    assert suggest("zzz", r.names()) == ""
    with pytest.raises(ValueError):
        command("bad name", usage="", summary="")
    with pytest.raises(ValueError, match="registered twice"):
        r.include(Group())


def test_each_router_has_its_own_help_and_no_global_router_exists():
    import chatops_widget.server.router as module

    assert CommandRouter().get("help") is not None
    assert CommandRouter(builtin_help=False).names() == []
    assert not any(isinstance(v, CommandRouter) for v in vars(module).values())
