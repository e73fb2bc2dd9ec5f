"""The offline intent parser: sentence -> canonical slash command (or what is missing).

Canonical form (see docs/assistant.md): ``/<command> <positional ...> [symbol=..] [start=..]
[end=..] [order=value ...] [param=value ...]`` -- positionals first, then options in the fixed
order symbol, start, end, the order settings (stop_loss, take_profit, trailing_stop, size,
risk), then strategy parameters in the order the sentence mentions them. A strategy described
in words (:mod:`._rules`) is ``/create_strategy [name=..] [symbol=..] entry="..." exit="..."
[order=value ...]``. Dates are ISO ``YYYY-MM-DD`` (see :mod:`._dates`), ranges ``lo:hi[:step]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ..protocol import ORDER_OPTIONS
from . import _lexicon as lx
from ._extract import Entities, extract, normalize_text
from ._fuzzy import distance
from ._research import research_command, take_research, universe_wanted
from ._rules import RuleSpec, extract_rules

__all__ = ["Analysis", "analyze", "parse_intent"]

_HANGUL_RE = re.compile(r"[\uac00-\ud7a3]")
_KOREAN_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_WORD_RE = re.compile(r"[a-z][a-z0-9_]*|[\uac00-\ud7a3]+")
_HELP_PHRASE_RE = re.compile("|".join(lx.HELP_PHRASES))
_HOWTO_RE = re.compile(lx.HOWTO_PATTERN)
_PHRASES = {
    "compare": re.compile(
        r"side by side|stack(?:s)? up|which (?:one )?is better|(?<![\w])대(?![\w])"
    ),
    "sweep": re.compile(r"grid search|parameter search"),
    "status": re.compile(r"(?:실행|진행)\s*중\S*|돌고\s*있\S*"),
}
_FUZZY_BY_LEN = sorted(lx.FUZZY_KEYWORDS)


@dataclass
class Analysis:
    """Everything the parser understood about one sentence.

    ``command`` is the canonical slash command when the request is complete; otherwise
    ``intent`` and ``missing`` (``"strategy"``, ``"strategies"``, ``"template"``, ``"run_id"``,
    ``"entry"``/``"exit"`` for a described strategy) say what the user seems to want and what
    is missing; ``rules`` is what :mod:`._rules` read (conditions, orders, a name). ``clean``
    is True when every word was understood (keywords, entities or filler) -- a sentence with
    other content words is treated as conversation, never guessed into a command.
    """

    text: str
    lang: str
    intent: str | None
    command: str | None
    missing: str | None
    entities: Entities
    hits: frozenset[str]
    clean: bool
    rules: RuleSpec | None = None
    note: str | None = None  # a default filled in (see _research.research_note)


def _keyword_intents(word: str) -> set[str]:
    hits = {k for k, words in lx.EN_KEYWORDS.items() if word in words}
    if hits or len(word) < 4 or word in lx.NOT_TYPOS or word in lx.EN_FILLER:
        return hits
    for kw in _FUZZY_BY_LEN:
        limit = 2 if len(word) >= 7 and len(kw) >= 7 else 1
        if distance(word, kw) <= limit:
            hits |= {k for k, words in lx.EN_KEYWORDS.items() if kw in words}
    return hits


_KO_SUBS = sorted(
    ((sub, intent) for intent, subs in lx.KO_KEYWORDS.items() for sub in subs),
    key=lambda p: -len(p[0]),
)


def _ko_residue(word: str, hits: set[str]) -> str:
    for sub, intent in _KO_SUBS:
        if sub in word:
            hits.add(intent)
            word = word.replace(sub, " ")
    out = []
    for piece in word.split():
        changed = True
        while changed and piece and piece not in lx.KO_FILLER:
            changed = False
            for p in lx.KO_PARTICLES:
                if piece.endswith(p) and len(piece) >= len(p):
                    piece = piece[: -len(p)]
                    changed = True
                    break
        if piece and piece not in lx.KO_FILLER and not _ko_filler_prefix(piece):
            out.append(piece)
    return " ".join(out)


def _ko_filler_prefix(piece: str) -> bool:
    # verb endings glued to filler stems: 보여줄래요, 알려주세요, 해줄래, 해줘요 ...
    return any(
        piece.startswith(f) for f in ("보여", "알려", "해줘", "해줄", "해주", "줄래", "해봐")
    )


def _classify(rest: str) -> tuple[set[str], list[str]]:
    """Intent keyword hits and the residue words (neither keyword nor filler)."""
    hits: set[str] = set()
    residue: list[str] = []
    for name, pat in _PHRASES.items():
        if pat.search(rest):
            hits.add(name)
            rest = pat.sub(" ", rest)
    if _HELP_PHRASE_RE.search(rest):
        hits.add("help")
        rest = _HELP_PHRASE_RE.sub(" ", rest)
    for word in _WORD_RE.findall(rest):
        if _HANGUL_RE.match(word):
            left = _ko_residue(word, hits)
            residue.extend(left.split())
            continue
        found = _keyword_intents(word)
        if found:
            hits |= found
        elif word not in lx.EN_FILLER and not _fuzzy_filler(word):
            residue.append(word)
    return hits, residue


def _fuzzy_filler(word: str) -> bool:
    return len(word) >= 4 and any(
        distance(word, f) <= 1 for f in ("list", "show", "please", "available")
    )


@lru_cache(maxsize=1)
def _engine_params() -> dict[str, frozenset[str]]:
    try:
        from ..engine import templates
    except ImportError:  # pragma: no cover - the engine ships with the package
        return dict(lx.TEMPLATE_PARAMS)
    return {name: frozenset(p.name for p in t.params) for name, t in templates().items()}


def _param_name(name: str, target: str | None) -> str:
    """Map a generic name onto the target template's own ("period" -> "window")."""
    params = _engine_params().get(target or "")
    if not params or name in params:
        return name
    for alt in lx.PARAM_FALLBACKS.get(name, ()):
        if alt in params:
            return alt
    return name


#: The order settings in their canonical order (as ``StartRun.command_text`` writes them).
ORDER_KEYS = tuple(k for k in ORDER_OPTIONS if k != "whole_units")  # what words can set


def _options(
    e: Entities,
    target: str | None = None,
    *,
    dates_only: bool = False,
    orders: dict[str, str] | None = None,
) -> list[str]:
    out = []
    if e.symbols and not dates_only:
        out.append(f"symbol={sorted(e.symbols)[0][1]}")
    for key in ("start", "end"):
        if key in e.dates:
            out.append(f"{key}={e.dates[key]}")
    given = orders or {}
    out += [f"{k}={given[k]}" for k in ORDER_KEYS if k in given]
    seen = set()
    for _, name, value in [] if dates_only else sorted(e.params):
        name = _param_name(name, target)
        if name not in seen:
            seen.add(name)
            out.append(f"{name}={value}")
    return out


def analyze(text: str, *, known_symbols=None, known_refs=None) -> Analysis:
    """Understand ``text``; see :class:`Analysis`.

    Example:
        >>> analyze("compare strategy_1 and strategy_2").command
        '/compare_strategies strategy_1 strategy_2'
        >>> analyze("backtest on GOOG").missing
        'strategy'
    """
    norm = normalize_text(text)
    lang = "ko" if _KOREAN_RE.search(norm) else "en"
    research, norm_r = take_research(norm)  # walk-forward, portfolio, all symbols: first
    low = "".join(c.lower() if len(c.lower()) == 1 else c for c in norm_r)  # same length
    spec = extract_rules(low, norm_r)  # strategy rules and orders, masked for what follows
    masked = "".join(" " if m == " " else c for c, m in zip(norm_r, spec.text, strict=True))
    e = extract(masked, known_symbols=known_symbols, known_refs=known_refs)
    hits, residue = _classify(e.rest)
    clean = not residue
    refs = e.ordered_refs()
    runs = [r for _, r in sorted(e.run_ids)]

    orders = spec.orders

    def done(intent: str, command: str) -> Analysis:
        return Analysis(norm, lang, intent, command, None, e, frozenset(hits), clean, spec)

    def need(intent: str, missing: str) -> Analysis:
        return Analysis(norm, lang, intent, None, missing, e, frozenset(hits), clean, spec)

    if "cancel" in hits and runs:
        return done("cancel", f"/cancel {runs[0]}")
    if (research or universe_wanted(research, e, frozenset(hits), refs)) and not runs:
        intent, command, missing, note = research_command(
            research, e, refs, frozenset(hits), lambda t, d: _options(e, t, dates_only=d)
        )
        return Analysis(norm, lang, intent, command, missing, e, frozenset(hits), clean, spec, note)
    if spec.has_rules and not runs:  # a strategy described in words
        if spec.entry is None or spec.exit is None:
            return need("create_rule", "entry" if spec.entry is None else "exit")
        return done("create_rule", _rule_command(spec, e))
    if refs and (e.has_range or "sweep" in hits) and not runs:
        return done("sweep", " ".join(["/sweep", refs[0], *_options(e, refs[0], orders=orders)]))
    if len(refs) >= 2 and hits & {"compare", "run"}:
        opts = _options(e, dates_only=True, orders=orders)
        return done("compare", " ".join(["/compare_strategies", *refs, *opts]))
    if runs:
        return done("result", f"/result {runs[0]}")
    templates = [r for r in refs if not r.startswith("strategy_")]
    if "create" in hits and templates and not hits & {"run", "compare"}:
        tpl = templates[0]
        opts = _options(e, tpl, orders=orders)
        return done("create", " ".join(["/create_strategy", tpl, *opts]))
    if refs and hits & {"run", "result"}:
        opts = _options(e, refs[0], orders=orders)
        return done("run", " ".join(["/run_backtest", refs[0], *opts]))
    if not clean:
        return Analysis(norm, lang, None, None, None, e, frozenset(hits), clean, spec)
    if _HOWTO_RE.search(e.rest) and not refs:
        for intent in (
            "sweep",
            "compare",
            "cancel",
            "result",
            "run",
            "create",
            "status",
            "templates",
            "data",
        ):
            if intent in hits:
                return done("help", f"/help {lx.HELP_TOPICS[intent]}")
    if "sweep" in hits:
        return need("sweep", "template")
    if "compare" in hits and any(w in e.rest for w in ("compar", "비교", "비굣")):
        return need("compare", "strategies")
    if "cancel" in hits:
        return need("cancel", "run_id")
    if "create" in hits and "strategies" in hits:
        return need("create", "template")
    for intent in ("status", "templates", "strategies", "data", "help"):
        if intent in hits and not refs:
            return done(intent, f"/{intent}")
    if "result" in hits:
        return need("result", "run_id")
    if "run" in hits or refs:
        return need("run", "strategy" if not refs else "action")
    return Analysis(norm, lang, None, None, None, e, frozenset(hits), clean, spec)


def _rule_command(spec: RuleSpec, e: Entities) -> str:
    """``/create_strategy [name=..] [symbol=..] [start=..] [end=..] entry=".." exit=".." ...``."""
    parts = ["/create_strategy"]
    if spec.name:
        parts.append(f"name={spec.name}")
    opts = _options(e, dates_only=True)  # dates
    if e.symbols:
        parts.append(f"symbol={sorted(e.symbols)[0][1]}")
    parts += opts
    parts += [f'entry="{spec.entry}"', f'exit="{spec.exit}"']
    parts += [f"{k}={spec.orders[k]}" for k in ORDER_KEYS if k in spec.orders]
    return " ".join(parts)


def parse_intent(text: str) -> str | None:
    """The slash command a sentence means, in canonical form, or None.

    None means "not a complete command": small talk, or a request missing something needed
    (the assistant then asks back). Never a guess.

    Example:
        >>> parse_intent("backtest strategy_1 on GOOG since 2010")
        '/run_backtest strategy_1 symbol=GOOG start=2010-01-01'
        >>> parse_intent("strategy_1이랑 strategy_2 비교해줘")
        '/compare_strategies strategy_1 strategy_2'
        >>> parse_intent("thanks!") is None
        True
    """
    return analyze(text).command
