"""The offline intent parser against the utterance corpus (tests/assistant/corpus.jsonl).

The corpus holds English and Korean requests (typos, varied word order), requests missing
something (expected None: the assistant asks back) and small talk (expected None, always).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatops_widget.assistant import parse_intent
from chatops_widget.assistant._dates import extract_dates, normalize_date

CORPUS = [
    json.loads(line)
    for line in (Path(__file__).parent / "corpus.jsonl").read_text("utf-8").splitlines()
    if line.strip()
]


def _mismatches(rows):
    out = []
    for row in rows:
        got = parse_intent(row["text"])
        if got != row["expect"]:
            out.append(
                f"[{row['kind']}/{row['lang']}] {row['text']!r}: "
                f"want {row['expect']!r}, got {got!r}"
            )
    return out


def test_corpus_shape():
    kinds = [r["kind"] for r in CORPUS]
    assert len(CORPUS) >= 150
    assert kinds.count("smalltalk") >= 30
    assert {r["lang"] for r in CORPUS} == {"en", "ko"}
    assert len({r["text"] for r in CORPUS}) == len(CORPUS), "duplicate utterances"


def test_corpus_accuracy():
    bad = _mismatches(CORPUS)
    accuracy = 1 - len(bad) / len(CORPUS)
    print(f"\nparse_intent corpus: {len(CORPUS) - len(bad)}/{len(CORPUS)} = {accuracy:.1%}")
    assert accuracy >= 0.95, "mismatches:\n" + "\n".join(bad)


def test_holdout_accuracy():
    holdout = [r for r in CORPUS if r["split"] == "holdout"]
    bad = _mismatches(holdout)
    print(f"\nheld-out: {len(holdout) - len(bad)}/{len(holdout)}")
    assert len(holdout) >= 40
    assert 1 - len(bad) / len(holdout) >= 0.9, "mismatches:\n" + "\n".join(bad)


def test_small_talk_never_triggers_a_command():
    talk = [r for r in CORPUS if r["kind"] == "smalltalk"]
    fired = [(r["text"], parse_intent(r["text"])) for r in talk if parse_intent(r["text"])]
    assert not fired, f"small talk turned into commands: {fired}"


def test_incomplete_requests_return_none():
    rows = [r for r in CORPUS if r["kind"] == "incomplete"]
    assert rows and all(parse_intent(r["text"]) is None for r in rows)


@pytest.mark.parametrize(
    "text, want",
    [
        (
            "backtest strategy_1 on GOOG since 2010",
            "/run_backtest strategy_1 symbol=GOOG start=2010-01-01",
        ),
        ("compare strategy_1 and strategy_2", "/compare_strategies strategy_1 strategy_2"),
        ("sweep sma_cross fast 5 to 50 by 5", "/sweep sma_cross fast=5:50:5"),
        ("strategy_1 백테스트 돌려줘", "/run_backtest strategy_1"),
        ("strategy_1이랑 strategy_2 비교해줘", "/compare_strategies strategy_1 strategy_2"),
        ("도움말", "/help"),
    ],
)
def test_issue_examples(text, want):
    assert parse_intent(text) == want


def test_canonical_option_order_is_fixed():
    # whatever the sentence order: positional, symbol, start, end, then params in sentence order
    a = parse_intent("with slow 30 and fast 10 from 2012 to 2014 on SPY backtest sma_cross")
    b = parse_intent("backtest sma_cross on SPY from 2012 to 2014 with slow 30 and fast 10")
    want = "/run_backtest sma_cross symbol=SPY start=2012-01-01 end=2014-12-31 slow=30 fast=10"
    assert a == b == want


@pytest.mark.parametrize(
    "phrase, want",
    [
        ("since 2010", {"start": "2010-01-01"}),
        ("until 2019", {"end": "2019-12-31"}),
        ("in 2020", {"start": "2020-01-01", "end": "2020-12-31"}),
        ("from feb 2016 to nov 2018", {"start": "2016-02-01", "end": "2018-11-30"}),
        ("between 2012 and 2016", {"start": "2012-01-01", "end": "2016-12-31"}),
        ("from March 3, 2015", {"start": "2015-03-03"}),
        ("2010-2015", {"start": "2010-01-01", "end": "2015-12-31"}),
        ("2012 년 6 월부터 2014 년 5 월까지", {"start": "2012-06-01", "end": "2014-05-31"}),
        ("2016 년 이후", {"start": "2016-01-01"}),
        ("2020 년까지", {"end": "2020-12-31"}),
        ("up to 2024-02", {"end": "2024-02-29"}),
    ],
)
def test_date_phrases(phrase, want):
    assert extract_dates(phrase)[0] == want


def test_explicit_dates_are_normalised_and_bad_ones_kept_for_the_router():
    assert normalize_date("2015/6/3") == "2015-06-03"
    assert normalize_date("2015", end=True) == "2015-12-31"
    assert normalize_date("2015-13-01") == "2015-13-01"  # router reports the bad date
    assert parse_intent("backtest strategy_1 start=2011 end=2012-06") == (
        "/run_backtest strategy_1 start=2011-01-01 end=2012-06-30"
    )


@pytest.mark.parametrize(
    "text",
    ["", "   ", "/", "???", "1234", "the", "GOOG", "x" * 5000, "run run run", "ㅋ" * 100],
)
def test_odd_input_never_crashes_or_guesses(text):
    assert parse_intent(text) is None
