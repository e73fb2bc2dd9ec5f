"""Fuzzing the rule language: >= 5,000 random and hostile expressions.

Each expression is parsed and, if it is a valid rule, evaluated (and a quarter of them
backtested with a stop). The only error allowed is
the documented one (:class:`RuleError`, or :class:`ParamError` -- its base -- for a window
longer than the data); no expression may take over a second (hypothesis' deadline), and
nothing may execute: ``compile`` may only build syntax trees, ``eval``/``exec`` are never
called and a canary function reachable by name never runs. Examples are derandomized (the
same every run) and the whole file runs in well under 30 s.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import string
import time
import zlib
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops_widget.engine import ParamError, RuleError, RuleStrategy, backtest, validate_ohlcv
from chatops_widget.engine._sim import Bars
from chatops_widget.engine.rules import FIELDS, FUNCTIONS, parse_rule

from ..conftest import make_ohlcv

DATA = make_ohlcv(100 * np.exp(np.cumsum(np.random.default_rng(5).normal(0, 0.02, 240))))
BARS = Bars.from_frame(validate_ohlcv(DATA))
FIRED: list[str] = []
BATCH = 10  # expressions per hypothesis example (its per-example overhead dominates otherwise)
SETTINGS = dict(
    deadline=timedelta(seconds=BATCH),  # and each expression under 1 s: see _time()
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
SLOWEST = {"seconds": 0.0, "text": ""}


@contextlib.contextmanager
def tripwires():
    """Fail if anything is compiled to code, eval'ed or exec'ed; plant a canary (only around
    the engine's own work: hypothesis builds its test wrappers with exec)."""
    real = builtins.compile, builtins.eval, builtins.exec

    def only_ast(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:
            FIRED.append(f"compile {source!r}")
        return real[0](source, filename, mode, flags, *args, **kwargs)

    def never(*args, **kwargs):
        FIRED.append(f"eval/exec {args!r}")
        raise AssertionError("eval/exec called")

    builtins.compile, builtins.eval, builtins.exec = only_ast, never, never
    builtins.canary = lambda *a: FIRED.append("canary")  # type: ignore[attr-defined]
    try:
        yield
    finally:
        builtins.compile, builtins.eval, builtins.exec = real
        del builtins.canary  # type: ignore[attr-defined]
    assert FIRED == [], FIRED


def check(text: str) -> None:
    """Parse, and backtest if valid; only the documented errors; time it."""
    with tripwires():
        _check(text)


def _check(text: str) -> None:
    t0 = time.perf_counter()
    try:
        tree = parse_rule(text, "entry")
    except RuleError as exc:
        assert str(exc).startswith("entry"), str(exc)
        assert exc.position is None or 1 <= exc.position <= len(text) + 1, (text, exc.position)
        return
    finally:
        _time(text, t0)
    params = {name: 3 + i for i, name in enumerate(sorted(tree.deps))}
    try:
        strategy = RuleStrategy(text, "close < open", params)
        combo = strategy.validate(None, BARS.n)
        pos, entries = strategy.positions(BARS, [combo])
        assert pos.shape == (1, BARS.n) and entries is not None
        if zlib.crc32(text.encode()) % 4 == 0:  # a full backtest (with a stop) for a quarter
            backtest(DATA, strategy, stop_loss=0.05)
    except ParamError as exc:  # RuleError included; e.g. a window longer than the data
        assert "bars" in str(exc) or "$" in str(exc) or "entry" in str(exc), str(exc)
    _time(text, t0)


def _time(text: str, t0: float) -> None:
    dt = time.perf_counter() - t0
    if dt > SLOWEST["seconds"]:
        SLOWEST.update(seconds=dt, text=text)
    assert dt < 1.0, f"{dt:.2f} s for {text[:80]!r}"


# ---------------------------------------------------------------- generators
NAMES = [
    *FUNCTIONS,
    *FIELDS,
    "True",
    "False",
    "None",
    "canary",
    "__import__",
    "os",
    "sys",
    "eval",
    "exec",
    "open",
    "getattr",
    "__class__",
    "__builtins__",
    "__subclasses__",
    "self",
    "lambda",
    "import",
    "for",
    "in",
    "is",
    "if",
    "else",
    "yield",
    "await",
    "x",
]
OPS = [
    "+",
    "-",
    "*",
    "/",
    "<",
    "<=",
    ">",
    ">=",
    "==",
    "!=",
    "and",
    "or",
    "not",
    "(",
    ")",
    "[",
    "]",
    ",",
    ".",
    ":",
    ":=",
    "**",
    "//",
    "%",
    "@",
    "&",
    "|",
    "^",
    "~",
    "=",
    "$",
    "$fast",
    "$slow",
    "$__class__",
    "'",
    '"',
    "f'",
    "{",
    "}",
    "lambda:",
    "for",
    "in",
    "\\",
    "#",
    ";",
    "...",
    "*args",
    "**kw",
    "1e999",
    "9" * 400,
    "0x1F",
    "1j",
    "1_000",
    "-0",
    "1e-320",
]
NUMBERS = st.one_of(
    st.integers(-10, 400).map(str),
    st.sampled_from(["0", "1", "2.5", "1e15", "1e16", "100000", "100001", "99999999", "1e308"]),
)

token = st.one_of(st.sampled_from(NAMES), st.sampled_from(OPS), NUMBERS)
soup = st.lists(token, min_size=1, max_size=40).map(
    lambda ts: " ".join(ts) if len(ts) % 2 else "".join(ts)
)
alphabet = string.ascii_letters + string.digits + string.punctuation + " éß∑😀\u200b\x00\t\n"
noise = st.text(alphabet=alphabet, min_size=0, max_size=120)
unicode_noise = st.text(min_size=1, max_size=60)


def _numeric(children):
    call1 = st.tuples(
        st.sampled_from(
            ["sma", "ema", "wma", "rsi", "stdev", "highest", "lowest", "roc", "bb_upper", "bb_mid"]
        ),
        children,
        NUMBERS,
    )
    return st.one_of(
        call1.map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
        st.tuples(st.sampled_from(["atr", "adx", "macd", "bb_lower", "rsi"]),
                  NUMBERS).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(children, st.sampled_from("+-*/"), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(children, st.sampled_from(["1", "5", "$k", "300", "100000"])).map(
            lambda t: f"{t[0]}[{t[1]}]"),
        children.map(lambda c: f"-{c}"),
    )  # fmt: skip


number_expr = st.recursive(
    st.one_of(st.sampled_from(list(FIELDS)), NUMBERS, st.sampled_from(["$fast", "$slow"])),
    _numeric,
    max_leaves=8,
)


def _conditions(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(["and", "or"]), children).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        children.map(lambda c: f"not {c}"),
        st.tuples(st.sampled_from(["crosses_above", "crosses_below"]), number_expr,
                  number_expr).map(lambda t: f"{t[0]}({t[1]}, {t[2]})"),
    )  # fmt: skip


condition = st.recursive(
    st.one_of(
        st.tuples(number_expr, st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
                  number_expr).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        st.sampled_from(["True", "False"]),
    ),
    _conditions,
    max_leaves=6,
)  # fmt: skip

HOSTILE = [
    "__import__('os').system('touch /tmp/pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "canary()",
    "close.__class__",
    "[canary() for _ in close]",
    "(lambda: canary())()",
    "f'{canary()}'",
    "(canary := 1)",
    "close[canary()]",
    "sma(close, canary())",
    "sma(__import__('os'), 5) > 1",
    "getattr(close, '__class__')",
    "close if canary() else open",
    "not " * 300 + "True",
    "(" * 300 + "close > 1" + ")" * 300,
    "sma(" * 100 + "close" + ", 2)" * 100 + " > 1",
    "-" * 900 + "close > 1",
    "close > 1 and " * 70 + "True",
    "sma(100000) > 1 and ema(99999) < 2",
    "close[100000] > 1",
    "close > " + "9" * 900,
    "close > 1e308 * 1e308",
    "highest(high, 99999) > wma(99999)",
    "macd_signal(close, 100000, 100000, 100000) > 0",
    "rsi(14) < 30 and close > sma(200)",
    "crosses_above(ema($fast), ema($slow))",
    "close > 1\x00",
    "$" * 500,
    "$__class__ > 1",
    "close >\u200b 1",
    "𝐜𝐥𝐨𝐬𝐞 > 1",  # mathematical bold letters normalize to 'close' in Python identifiers
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_expressions(text):
    check(text)


def batches(strategy):
    return st.lists(strategy, min_size=BATCH, max_size=BATCH)


@settings(max_examples=250, **SETTINGS)
@given(batches(soup))
def test_token_soup(texts):
    for text in texts:
        check(text)


@settings(max_examples=100, **SETTINGS)
@given(batches(st.one_of(noise, unicode_noise)))
def test_random_text(texts):
    for text in texts:
        check(text)


@settings(max_examples=150, **SETTINGS)
@given(batches(condition))
def test_generated_rules(texts):
    for text in texts:
        check(text)


def test_at_least_5000_expressions():
    examples = (250 + 100 + 150) * BATCH + len(HOSTILE)
    assert examples >= 5000


def test_report_the_slowest():
    assert SLOWEST["seconds"] < 1.0
    print(f"slowest expression: {SLOWEST['seconds'] * 1000:.1f} ms: {SLOWEST['text'][:80]!r}")
