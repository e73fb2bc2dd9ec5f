"""Entity extraction for the offline parser: ids, templates, symbols, params, ranges, dates.

:func:`extract` walks the sentence in a fixed order and *masks* each piece it understood
(replaces it with spaces), so later patterns never read the same words twice; what is left are
the keywords and filler words the intent classifier looks at.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from . import _lexicon as lx
from ._dates import extract_dates, extract_split, normalize_date
from ._fuzzy import distance

__all__ = ["Entities", "extract", "normalize_text"]

NUM = r"-?\d+(?:\.\d+)?"
_HANGUL = "\uac00-\ud7a3"


@dataclass
class Entities:
    """What the sentence mentions, each list in sentence order."""

    refs: list[tuple[int, str]] = field(default_factory=list)  # strategy ids / templates
    run_ids: list[tuple[int, str]] = field(default_factory=list)
    symbols: list[tuple[int, str]] = field(default_factory=list)
    params: list[tuple[int, str, str]] = field(default_factory=list)  # (pos, name, value)
    dates: dict[str, str] = field(default_factory=dict)
    has_range: bool = False
    rest: str = ""  # the masked lower-case text: keywords and filler only

    def ordered_refs(self) -> list[str]:
        out: list[str] = []
        for _, r in sorted(self.refs):
            if r not in out:
                out.append(r)
        return out


def normalize_text(text: str) -> str:
    """NFKC, split ASCII from Hangul (``strategy_1이랑`` -> ``strategy_1 이랑``), squeeze spaces."""
    s = unicodedata.normalize("NFKC", text)
    s = re.sub(rf"(?<=[A-Za-z0-9_])(?=[{_HANGUL}])|(?<=[{_HANGUL}])(?=[A-Za-z0-9_])", " ", s)
    s = s.replace("’", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"\s+", " ", s).strip()


class _Text:
    """The sentence twice (original case and lower case, same length) with masking."""

    def __init__(self, s: str):
        self.orig = s
        self.low = "".join(c.lower() if len(c.lower()) == 1 else c for c in s)

    def mask(self, start: int, end: int) -> None:
        pad = " " * (end - start)
        self.orig = self.orig[:start] + pad + self.orig[end:]
        self.low = self.low[:start] + pad + self.low[end:]

    def take(self, pattern: re.Pattern[str], *, case: bool = False):
        """Yield matches (of the lower-case text unless ``case``) and mask each."""
        for m in list(pattern.finditer(self.orig if case else self.low)):
            yield m
            self.mask(m.start(), m.end())


def _alias_re(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_PNAME = _alias_re(lx.PARAM_ALIASES)
_SUFFIX = _alias_re(lx.PARAM_SUFFIXES)
_KV = re.compile(r"(?<![\w/])([a-z_][a-z0-9_]*)\s*=\s*([^\s,;]+)")
_RUN_ID = re.compile(r"(?<![\w/])run[_-](?!backtest\b)[a-z0-9][a-z0-9_-]*")
_STEP = (
    r"(?:\s*,?\s*(?:(?:in\s+)?steps?\s+(?:of\s+)?|by\s+|every\s+|with\s+(?:a\s+)?step\s+(?:of\s+)?"
    r"|step\s*[=:]?\s*|increments?\s+of\s+|간격\s*)(?P<step>" + NUM + r")"
    r"|\s+(?P<step2>" + NUM + r")\s*(?:씩|간격|단위|steps?\b))"
)
_RANGE = re.compile(
    rf"(?<![\w])(?P<name>{_PNAME})(?:\s+(?:{_SUFFIX}))?\s*(?:=|:|은|는|을|를|값|range|범위)?\s*"
    rf"(?:from\s+|between\s+)?(?P<lo>{NUM})\s*(?:to|through|thru|until|-|–|~|\.\.|부터|에서|and)"
    rf"\s*(?P<hi>{NUM})(?:\s*까지)?(?:{_STEP})?"
)
_COLON_RANGE = re.compile(
    rf"(?<![\w])(?P<name>{_PNAME})\s*[=:]?\s*(?P<v>{NUM}:{NUM}(?::{NUM})?)(?![\w:])"
)
_SINGLE = re.compile(
    rf"(?<![\w])(?P<name>{_PNAME})(?:\s+(?:{_SUFFIX}))?\s*(?:=|:|of|at|is|to|은|는|을|를|가|이)?"
    rf"\s*(?:a\s+|an\s+)?(?:value\s+of\s+)?(?P<v>{NUM})(?![\w.:])"
)
_STRATEGY_IDS = [
    re.compile(r"(?<![\w])strateg(?:y|ies)\s+(\d+(?:\s*(?:,|and|&|or)\s*\d+)+)(?![\w])"),
    re.compile(r"(?<![\w])(?:strategy|strat)[\s_#-]*(?:no\.?\s*|number\s*)?(\d+)(?![\w])"),
    re.compile(r"(?<![\w])전략\s*(\d+)(?:\s*번)?"),
    re.compile(r"(?<![\w])(\d+)\s*번\s*(?:째\s*)?전략"),
    re.compile(r"(?<![\w])([a-z]{5,11})[_#-]?(\d+)(?![\w])"),
]
_SHORT_ON = re.compile(rf"(?<![\w])(?:{lx.SHORT_ON})(?![\w])")
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_CAPS_WORD = re.compile(r"(?<![\w$/])\$?([A-Z]{6,12})(?![\w])")
_SNAKE = re.compile(r"(?<![\w/])([a-z][a-z0-9]*(?:_[a-z0-9]+)+)(?![\w])")
_SYMBOL = re.compile(r"(?<![\w$/])\$?([A-Z][A-Z0-9]{0,4}(?:[.-][A-Z]{1,2})?)(?![\w])")
_LOW_SYMBOL = re.compile(r"(?<![\w])(?:on|for|symbol|ticker|with|using)\s+\$?([a-z]{1,12})(?![\w])")
_COMMAND_WORDS = {"run_backtest", "compare_strategies"}


def extract(text: str, *, known_symbols=None, known_refs=None) -> Entities:
    """Extract every entity from ``text`` (already :func:`normalize_text`-ed)."""
    t = _Text(text)
    e = Entities()
    known_syms = {s.upper() for s in (known_symbols or ())}
    extra_refs = {r.lower() for r in (known_refs or ())}

    for m in t.take(_KV):
        key, val = m.group(1), m.group(2).rstrip(".?!)'\"")
        kind = lx.OPTION_KEYS.get(key)
        if kind == "symbol":
            e.symbols.append((m.start(), text[m.start(2) : m.start(2) + len(val)].upper()))
        elif kind in ("start", "end"):
            e.dates.setdefault(kind, normalize_date(val, end=kind == "end"))
        elif kind == "ref":
            e.refs.append((m.start(), val))
        else:
            name = lx.PARAM_ALIASES.get(key, key)
            e.params.append((m.start(), name, val))
            e.has_range |= ":" in val
    for m in t.take(_RUN_ID):
        e.run_ids.append((m.start(), m.group(0)))
    for m in t.take(_SHORT_ON):
        e.params.append((m.start(), "short", "true"))
    for pat in (_RANGE, _COLON_RANGE):
        for m in list(pat.finditer(t.low)):
            name = lx.PARAM_ALIASES[m.group("name")]
            if pat is _COLON_RANGE:
                val = m.group("v")
            else:
                step = m.group("step") or m.group("step2")
                if not step and _YEAR.match(m.group("lo")) and _YEAR.match(m.group("hi")):
                    continue  # "period from 2016 until 2019" is a date range
                val = f"{m.group('lo')}:{m.group('hi')}" + (f":{step}" if step else "")
            e.params.append((m.start(), name, val))
            e.has_range = True
            t.mask(m.start(), m.end())
    for m in list(_SINGLE.finditer(t.low)):
        name = lx.PARAM_ALIASES[m.group("name")]
        if name == "period" and _YEAR.match(m.group("v")):
            continue
        e.params.append((m.start(), name, m.group("v")))
        t.mask(m.start(), m.end())
    _extract_strategy_ids(t, e)
    _extract_templates(t, e, extra_refs)
    for m in list(_SYMBOL.finditer(t.orig)):
        if m.group(1) not in lx.SYMBOL_STOPWORDS:
            e.symbols.append((m.start(), m.group(1)))
            t.mask(m.start(), m.end())
    for m in list(_CAPS_WORD.finditer(t.orig)):  # longer all-caps names the server knows
        if m.group(1).lower() in lx.COMMON_TICKERS or m.group(1) in known_syms:
            e.symbols.append((m.start(), m.group(1)))
            t.mask(m.start(), m.end())
    for m in list(_LOW_SYMBOL.finditer(t.low)):
        word = m.group(1)
        if word in lx.COMMON_TICKERS or word.upper() in known_syms:
            e.symbols.append((m.start(1), word.upper()))
            t.mask(m.start(1), m.end(1))
    split, span = extract_split(t.orig)  # "out of sample from 2021": not a start date
    if split is not None and span is not None:
        e.params.append((span[0], "split", split))
        t.mask(*span)
    dates, spans = extract_dates(t.orig)
    for k, v in dates.items():
        e.dates.setdefault(k, v)
    for s, end in spans:
        t.mask(s, end)
    e.rest = t.low
    return e


def _extract_strategy_ids(t: _Text, e: Entities) -> None:
    for i, pat in enumerate(_STRATEGY_IDS):
        for m in list(pat.finditer(t.low)):
            if i == 0:
                for n in re.findall(r"\d+", m.group(1)):
                    e.refs.append((m.start(), f"strategy_{int(n)}"))
            elif i == 4:
                word = m.group(1)
                if word == "strategy" or distance(word, "strategy") > 2:
                    continue
                e.refs.append((m.start(), f"strategy_{int(m.group(2))}"))
            else:
                e.refs.append((m.start(), f"strategy_{int(m.group(1))}"))
            t.mask(m.start(), m.end())


def _extract_names(t: _Text, e: Entities, extra: set[str]) -> None:
    """Stored strategies' names the server knows (``dip``, ``quick ema``), as whole words;
    longest first, never a word the parser reads as a keyword or filler."""
    words = {w for ws in lx.EN_KEYWORDS.values() for w in ws} | lx.EN_FILLER
    names = [n for n in extra if n not in lx.TEMPLATES and not n.startswith("strategy_")]
    for name in sorted(names, key=len, reverse=True):
        if not name.strip() or name in words:
            continue
        for m in t.take(re.compile(rf"(?<![\w]){re.escape(name)}(?![\w])")):
            e.refs.append((m.start(), name))


def _extract_templates(t: _Text, e: Entities, extra: set[str]) -> None:
    _extract_names(t, e, extra)
    for phrase, name in lx.TEMPLATE_PHRASES.items():
        for m in t.take(re.compile(rf"(?<![\w])(?:{phrase})(?![\w])")):
            e.refs.append((m.start(), name))
    for m in list(_SNAKE.finditer(t.low)):
        word = m.group(1)
        if word in _COMMAND_WORDS:
            continue
        if word in lx.TEMPLATES or word in extra:
            ref = word
        else:
            best = min(lx.TEMPLATES, key=lambda n: distance(word, n))
            ref = best if distance(word, best) <= 2 else word
        e.refs.append((m.start(), ref))
        t.mask(m.start(), m.end())
    for m in list(re.finditer(r"(?<![\w])([a-z]{6,})(?![\w])", t.low)):
        word = m.group(1)
        for name in (*lx.TEMPLATES, *extra):
            if "_" not in name and distance(word, name) <= (1 if len(name) < 9 else 2):
                e.refs.append((m.start(), name))
                t.mask(m.start(), m.end())
                break
