"""interpret(): the assistant's reply and command for a message, in the user's language."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatops_widget.assistant import Intent, interpret

KNOWN = ["strategy_1", "strategy_2", "strategy_3"]
SYMBOLS = ["ALPHA", "BRAVO", "GOOG"]
CORPUS = [
    json.loads(line)
    for line in (Path(__file__).parent / "corpus.jsonl").read_text("utf-8").splitlines()
]


def test_command_reply_names_the_command():
    it = interpret("backtest strategy_1 on GOOG since 2010", KNOWN, SYMBOLS)
    assert isinstance(it, Intent) and it.kind == "command"
    assert it.command == "/run_backtest strategy_1 symbol=GOOG start=2010-01-01"
    assert it.command in it.reply and it.lang == "en"


def test_korean_message_gets_korean_reply():
    it = interpret("strategy_1이랑 strategy_2 비교해줘", KNOWN)
    assert it.command == "/compare_strategies strategy_1 strategy_2"
    assert it.lang == "ko" and "실행" in it.reply


@pytest.mark.parametrize(
    "text, missing, needle",
    [
        ("backtest on GOOG", "strategy", "Which strategy"),
        ("compare strategy_1", "strategies", "Which strategies"),
        ("sweep fast 5 to 50", "template", "sma_cross"),
        ("cancel", "run_id", "/status"),
        ("show result", "run_id", "Which run"),
        ("백테스트 돌려줘", "strategy", "어떤 전략"),
        ("비교해줘", "strategies", "비교"),
        ("취소해줘", "run_id", "취소"),
    ],
)
def test_missing_pieces_are_asked_back(text, missing, needle):
    it = interpret(text, KNOWN, SYMBOLS)
    assert it.command is None and it.kind == "clarify" and it.missing == missing
    assert needle in it.reply


def test_unknown_strategy_gets_close_matches_not_a_run():
    it = interpret("backtest strategy_12 on GOOG", KNOWN, SYMBOLS)
    assert it.command is None and it.kind == "clarify"
    assert it.suggestions[0] == "strategy_1" and "`strategy_1`" in it.reply


def test_unknown_symbol_gets_close_matches():
    it = interpret("backtest strategy_1 on GOGO", KNOWN, SYMBOLS)
    assert it.command is None and it.suggestions == ["GOOG"] and it.unknown == "GOGO"
    assert it.missing is None  # nothing is missing: the request names what is not there
    assert "Did you mean `GOOG`?" in it.reply
    assert "Try `/run_backtest strategy_1 symbol=GOOG` instead" in it.reply


def test_unknown_symbol_lists_the_available_ones_and_the_command_to_type():
    it = interpret("backtest strategy_1 on GOOG since 2010", KNOWN, ["ALPHA", "BRAVO"])
    assert it.command is None and it.kind == "clarify" and it.unknown == "GOOG"
    assert it.suggestions == ["ALPHA", "BRAVO"]
    assert it.reply.startswith("`GOOG` is not available")
    assert "Available symbols: `ALPHA`, `BRAVO`." in it.reply
    assert "`/run_backtest strategy_1 symbol=ALPHA start=2010-01-01`" in it.reply
    many = [f"S{i:03d}" for i in range(30)]
    it = interpret("sweep sma_cross on GOOG fast 5 to 10", KNOWN, many)
    assert "`S011`." in it.reply and "`S012`" not in it.reply and "18 more" in it.reply
    assert "`/sweep sma_cross symbol=S000 fast=5:10`" in it.reply
    it = interpret("strategy_1 GOOG로 백테스트 돌려줘", KNOWN, ["ALPHA"])
    assert it.lang == "ko" and "사용 가능한 종목: `ALPHA`" in it.reply
    assert "`/run_backtest strategy_1 symbol=ALPHA`" in it.reply


def test_symbols_of_a_comparison_are_not_checked():
    it = interpret("compare strategy_1 and strategy_2 on GOOG", KNOWN, ["ALPHA"])
    assert it.command == "/compare_strategies strategy_1 strategy_2"


def test_templates_are_always_known():
    it = interpret("backtest sma_cross on ALPHA fast 5", KNOWN, SYMBOLS)
    assert it.command == "/run_backtest sma_cross symbol=ALPHA fast=5"


def test_lowercase_known_symbol_is_recognised():
    assert interpret("backtest strategy_2 on bravo", KNOWN, SYMBOLS).command == (
        "/run_backtest strategy_2 symbol=BRAVO"
    )


def test_small_talk_points_to_help_and_never_runs():
    talk = [r for r in CORPUS if r["kind"] == "smalltalk"]
    for row in talk:
        it = interpret(row["text"], KNOWN, SYMBOLS)
        assert it.command is None, row["text"]
        assert it.kind in ("chat", "clarify"), row["text"]
        if it.kind == "chat":
            assert "/help" in it.reply, row["text"]
        assert it.lang == row["lang"], row["text"]
    chats = sum(interpret(r["text"], KNOWN, SYMBOLS).kind == "chat" for r in talk)
    assert chats >= 0.9 * len(talk)


def test_greeting_and_thanks_replies():
    assert "Hi" in interpret("hello there").reply
    assert "welcome" in interpret("thanks!").reply
    assert "안녕하세요" in interpret("안녕").reply
    assert "천만에요" in interpret("고마워").reply


def test_sweep_and_create_without_symbol_ask_for_one():
    it = interpret("sweep sma_cross fast 5 to 50 by 5", KNOWN, SYMBOLS)
    assert it.command is None and it.missing == "symbol" and it.suggestions == SYMBOLS
    it = interpret("sma_cross 스윕 fast 5부터 20까지 5씩", KNOWN, SYMBOLS)
    assert it.missing == "symbol" and it.lang == "ko"
    it = interpret("create a strategy", KNOWN, SYMBOLS)
    assert it.missing == "template" and "sma_cross" in it.reply


def test_compare_leaves_out_what_the_command_does_not_take_and_says_so():
    it = interpret("compare strategy_1 and strategy_2 on GOOG", KNOWN, SYMBOLS)
    assert it.command == "/compare_strategies strategy_1 strategy_2"
    assert "`GOOG`" in it.reply
