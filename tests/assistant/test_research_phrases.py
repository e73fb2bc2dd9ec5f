"""Research requests in chat, English and Korean: walk-forward, strategies across symbols and
portfolios -- the parser (tests/assistant/research_corpus.jsonl), the replies, questions back,
and the three phrases of the issue run end to end on a real server with the assistant."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from chatops_widget.assistant import interpret, parse_intent
from chatops_widget.assistant._offline import understand

CORPUS = [
    json.loads(line)
    for line in (Path(__file__).parent / "research_corpus.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]
NAMES = (["strategy_1", "strategy_2", "strategy_3", "sma_cross", "ema_cross"],
         ["ALPHA", "BRAVO", "CHARLIE", "DELTA", "ECHO"])  # fmt: skip


def test_research_corpus():
    assert {r["lang"] for r in CORPUS} == {"en", "ko"} and len(CORPUS) >= 50
    bad = [
        f"{r['text']!r}: want {r['expect']!r}, got {parse_intent(r['text'])!r}"
        for r in CORPUS
        if parse_intent(r["text"]) != r["expect"]
    ]
    assert not bad, "\n".join(bad)
    talk = [r for r in CORPUS if r["kind"] == "smalltalk"]
    assert len(talk) >= 7 and all(parse_intent(r["text"]) is None for r in talk)


def test_the_issues_phrases_and_their_replies():
    it = interpret("walk forward sma_cross on ALPHA, 2 years train, 6 months test", *NAMES)
    assert (
        it.kind == "command"
        and it.command == "/walkforward sma_cross symbol=ALPHA train=2y test=6m"
    )
    it = interpret("compare strategy_1 and strategy_2 on all symbols", *NAMES)
    assert it.command == "/compare_strategies strategy_1 strategy_2 symbols=*"
    it = interpret("ALPHA랑 BRAVO로 포트폴리오 백테스트", *NAMES)
    assert it.command == "/run_backtest buy_and_hold symbols=ALPHA,BRAVO" and it.lang == "ko"
    assert "바이앤홀드" in it.reply  # the default it filled in is said
    it = interpret("walk forward strategy_1", *NAMES)
    assert "no periods given: train=2y test=6m" in it.reply


def test_missing_pieces_are_asked_and_unknown_symbols_named():
    it = interpret("portfolio backtest of strategy_1", *NAMES)
    assert it.kind == "clarify" and it.missing == "symbols" and "Which symbols" in it.reply
    it = interpret("walk forward sma_cross 2y train 6m test", *NAMES)
    assert it.kind == "clarify" and it.missing == "symbol"
    it = interpret("compare strategy_1 and strategy_2 on ALPHA and ZULU", *NAMES)
    assert it.kind == "clarify" and it.unknown == "ZULU" and "`ALPHA`" in it.reply
    it = interpret("my portfolio is down today", *NAMES)
    assert it.kind == "chat" and it.command is None


def test_a_question_back_is_completed_by_the_next_message():
    pending: dict = {}
    first, _ = understand(NAMES, pending, "s1", "walk forward sma_cross 3y train 1y test")
    assert first.missing == "symbol"
    _, command = understand(NAMES, pending, "s1", "DELTA")
    assert command == "/walkforward sma_cross symbol=DELTA train=3y test=1y"
    understand(NAMES, pending, "s2", "portfolio of strategy_2")
    assert understand(NAMES, pending, "s2", "ALPHA and ECHO")[1] == (
        "/run_backtest strategy_2 symbols=ALPHA,ECHO"
    )


_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    for key in ("CHATOPS_LLM_BASE_URL", "CHATOPS_LLM_MODEL", "CHATOPS_LLM_API_KEY"):
        monkeypatch.delenv(key, raising=False)


@pytest.mark.parametrize(
    ("text", "kind", "reply"),
    [
        (
            "walk forward sma_cross on ALPHA, 2 years train, 6 months test",
            "walkforward",
            "Running `/walkforward sma_cross symbol=ALPHA train=2y test=6m`",
        ),
        (
            "compare strategy_1 and strategy_2 on all symbols",
            "universe",
            "Running `/compare_strategies strategy_1 strategy_2 symbols=*`",
        ),
        ("ALPHA랑 BRAVO로 포트폴리오 백테스트", "portfolio", "실행할게요"),
    ],
)
def test_the_phrases_run_on_the_server(embedded_server, raw_client_cls, arun, text, kind, reply):
    async def scenario():
        sid = f"session_research_chat{next(_ids)}"
        c = await raw_client_cls(embedded_server.url, embedded_server.token).connect()
        assert (await c.call("joinSession", {"sessionId": sid}))["ok"]
        ack = await c.call("sendMessage", {"sessionId": sid, "content": text})
        assert ack["ok"]
        said = await c.wait_event("message", lambda m: m["role"] == "assistant"
                                  and "assistant" in m["metadata"])  # fmt: skip
        assert reply in said["content"], said
        result = await c.wait_event("commandResult", lambda r: r.get("runId"), timeout=150)
        assert result["ok"] and result["summary"]["kind"] == kind, result
        await c.close()

    arun(scenario(), timeout=180)
