"""Rule parsing: what is accepted, and pointed errors with "did you mean" for what is not."""

from __future__ import annotations

import pytest

from chatops_widget.engine.rules import MAX_LENGTH, RuleError, parse_rule


@pytest.mark.parametrize(
    "text,canon",
    [
        ("rsi(14) < 30 and close > sma(200)", "(rsi(close,14)<30 and close>sma(close,200))"),
        ("crosses_above(ema($fast), ema($slow))",
         "crosses_above(ema(close,$fast),ema(close,$slow))"),
        ("close > highest(high, 20)[1]", "close>highest(high,20)[1]"),
        ("close[$k] < close", "close[$k]<close"),
        ("bb_upper(20, k=2.5) < close", "bb_upper(close,20,2.5)<close"),
        ("not (close > open) or volume > 1e6", "(not close>open or volume>1000000)"),
        ("  low < open < high  ", "(low<open and open<high)"),  # chained, spaces around
        ("-close < -1 * open", "-close<(-1*open)"),
        ("macd() > macd_signal(signal=5)", "macd(close,12,26)>macd_signal(close,12,26,5)"),
        ("crosses_below(rsi(14), 70)", "crosses_below(rsi(close,14),70)"),
        ("True", "True"),
        ("crosses_above(close, sma(5))[1]", "crosses_above(close,sma(close,5))[1]"),
        ("close[0] > open", "close>open"),
        ("sma(ema(rsi(14), 5), 20) > 50", "sma(ema(rsi(close,14),5),20)>50"),
        ("(close - open) / (high - low) > 0.5", "((close-open)/(high-low))>0.5"),
    ],
)  # fmt: skip
def test_valid_rules_and_their_canonical_form(text, canon):
    tree = parse_rule(text)
    assert tree.canon == canon and tree.kind == "condition"


@pytest.mark.parametrize(
    "text,message,position",
    [
        # the examples from the issue
        ("rsl(14) < 30", "unknown function 'rsl' at 1 (did you mean 'rsi'?)", 1),
        ("rsi(14) > 70 and", "'and' needs a condition on both sides at 14", 14),
        # names
        ("Close > 1", "unknown name 'Close' at 1 (did you mean 'close'?)", 1),
        ("clsoe > 1", "unknown name 'clsoe' at 1 (did you mean 'close'?)", 1),
        ("foo > 1", "unknown name 'foo' at 1 (price fields: open, high", 1),
        ("rsi > 30", "'rsi' is a function; call it, e.g. rsi(14) < 30 at 1", 1),
        ("close(1) > 2", "'close' is a price field, not a function; use close[1]", 1),
        ("_x > 1", "unknown name '_x' at 1", 1),
        ("close > $", "'$' must be followed by a parameter name (e.g. $fast) at 9", 9),
        # operators and syntax
        ("close > 1 or", "'or' needs a condition on both sides at 11", 11),
        ("close >", "'>' needs a value on both sides at 7", 7),
        ("not", "'not' needs a condition after it at 1", 1),
        ("(close > 1", "'(' is never closed at 1", 1),
        ("close > 1)", "')' has no matching '(' at 10", 10),
        ("rsi(14) 30 > 1", "missing operator between ')' and '30' at 9", 9),
        ("rsi(14) && close > 1", "unexpected '&' (use 'and') at 9", 9),
        ("close = 3", "unexpected '=' (use '==' to compare) at 7", 7),
        ("close ** 2 > 1", "'**' (there is no power operator) is not allowed at 7", 7),
        ("close % 2 > 1", "'%' (write a fraction: 5 % is 0.05) is not allowed at 7", 7),
        ("close in 5", "'in' is not allowed; compare with", 10),
        ("sma(, 20) > 1", "an argument is missing before ','", 5),
        # types
        ("sma(20)", "'sma(20)' is a number, not a condition; compare it", 1),
        ("close > 1 and 5", "'and' needs a condition on both sides; '5' is a number at 15", 15),
        ("(close > 1) + 1 > 0", "'+' needs a number; 'close > 1' is a condition", 2),
        # arguments
        ("sma(0) > 1", "sma()'s window must be in [1, 100000] bars, got 0 at 5", 5),
        ("sma(2.5) > 1", "sma()'s window must be a whole number of bars, got 2.5 at 5", 5),
        ("sma(close) > 1", "sma() needs 'window'; usage: sma([series=close], window) at 1", 1),
        ("sma(close, 20, 3) > 1", "sma() got 3 arguments, too many", 16),
        ("sma(20, windw=3) > 1", "sma() has no argument 'windw' at 15 (did you mean 'window'?)",
         15),
        ("sma(close, sma(5)) > 1", "sma()'s window must be a whole number of bars or a $param",
         12),
        ("sma(200000) > 1", "must be in [1, 100000] bars", 5),
        ("close[1.5] > 1", "lookback [k] needs a whole number of bars >= 0 or a $param", 7),
        ("close[-1] > 1", "lookback [k] needs a whole number of bars", 7),
        ("close[1:3] > 1", "slices are not allowed", 1),
        # not in the language at all
        ("close.real > 1", "attribute access (a.b) is not allowed in a rule at 1", 1),
        ("__import__('os').system('x')", "attribute access (a.b) is not allowed", 1),
        ("__import__('os')", "unknown function '__import__' at 1", 1),
        ("lambda: 1", "lambda is not allowed in a rule at 1", 1),
        ("[c for c in close]", "a comprehension is not allowed in a rule at 1", 1),
        ("f'{close}' > 1", "an f-string is not allowed in a rule at 1", 1),
        ("(x := 1)", "':=' is not allowed in a rule at 2", 2),
        ("'text'", "text in quotes is not allowed", 1),
        ("close if True else open", "'x if c else y' is not allowed", 1),
        ("1e999 > close", "the number '1e999' is too large", 1),
        ("close > 9" * 1, "'close > 9' is", None),
    ],
)  # fmt: skip
def test_errors_point_at_the_character(text, message, position):
    if position is None:  # not an error: the last case is a valid control
        assert parse_rule(text).kind == "condition"
        return
    with pytest.raises(RuleError) as err:
        parse_rule(text, "entry")
    assert str(err.value).startswith("entry: ")
    assert message in str(err.value), str(err.value)
    assert err.value.position == position, str(err.value)
    assert err.value.param == "entry"


def test_positions_count_characters_not_bytes():
    with pytest.raises(RuleError) as err:
        parse_rule("close > 1 and ééé > 2", "exit")
    assert err.value.position == 15 and "unknown name 'ééé'" in str(err.value)
    with pytest.raises(RuleError) as err:
        parse_rule("close\n  > 1 and\nfoo", "exit")  # newlines count as one character each
    assert err.value.position == 17


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("", "entry is empty; write a condition such as close > sma(50)"),
        ("   ", "entry is empty"),
        ("close > 1 " * 200, f"the limit is {MAX_LENGTH}"),
        ("sma(" * 40 + "close" + ", 2)" * 40 + " > 1", "entry is nested 42 levels deep"),
        ("-" * 60 + "close > 1", "the limit is 32"),
        ("low<1 or " * 110 + "low<1", "entry has more than 256 parts"),
        ("close > 1\x00", "control character"),
    ],
)
def test_limits_and_empty_rules(text, fragment):
    with pytest.raises(RuleError) as err:
        parse_rule(text, "entry")
    assert fragment in str(err.value)


def test_not_a_string():
    with pytest.raises(RuleError, match="entry must be text, got int"):
        parse_rule(5, "entry")  # type: ignore[arg-type]
