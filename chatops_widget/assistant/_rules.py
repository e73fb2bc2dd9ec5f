"""Strategies described in words -> the engine's rule language; stops, targets and sizing ->
order options (English and Korean).

"buys when RSI 14 is under 30 and sells above 70 with a 5% stop" becomes ``entry="rsi(14) <
30"``, ``exit="rsi(14) > 70"`` and ``stop_loss=5%``. Each buy or sell clause is split into
conditions, and each condition is read as tokens -- an operand (``rsi 14``, ``the 50 day sma``,
``ema(12)``, ``price``, ``200일 이평선``, ``종가``), a comparison (``is under``, ``crosses
above``, ``아래면``, ``상향 돌파하면``) and a number or another operand -- in English order
(``A is above B``) or Korean order (``A가 B 위면``). A sell clause may leave out what the buy
clause said (``sells above 70``: the RSI; ``when it crosses below``: both averages). A clause
with a word it does not know is not understood: its words are left for the intent classifier,
which then sees them as conversation (never a guessed rule).

What was understood is masked (replaced by spaces, the text keeps its length), so the entity
extractor and the classifier never read it again.

Example:
    >>> spec = extract_rules("buys when rsi 14 is under 30 and sells above 70, 5% stop")
    >>> spec.entry, spec.exit, spec.orders
    ('rsi(14) < 30', 'rsi(14) > 70', {'stop_loss': '5%'})
    >>> extract_rules("50일 이평선이 200일 이평선을 상향 돌파하면 사고 하향 돌파하면 팔아").exit
    'crosses_below(sma(50), sma(200))'
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

__all__ = ["RuleSpec", "extract_rules"]

_N = r"\d+(?:\.\d+)?"
_PCT = rf"(?P<v>{_N})\s*(?:%|percent\b|pct\b|퍼센트|프로)"
_H = "\uac00-\ud7a3"
_B = rf"(?<![\w{_H}])"  # a word starts here (no letter, digit or Hangul before)
_E = rf"(?![\w{_H}])"  # a word ends here

# ---------------------------------------------------------------------------- orders
_TRAIL_EN = r"trailing[- ]?stop(?:[- ]loss)?"
_TRAIL_KO = r"(?:트레일링\s*스[탑톱]|추적\s*손절)"
_STOP_EN = r"(?:stop[- ]?loss|stop|sl)"
_STOP_KO = r"(?:손절(?:매)?|스[탑톱]\s*로스|손실\s*제한)"
_TP_EN = r"(?:take[- ]?profit|profit[- ]?target|target|tp)"
_TP_KO = r"(?:익절|목표\s*수익(?:률)?|이익\s*실현)"
_KO_P = r"(?:\s*(?:은|는|을|를|이|가|라인|선|은요))?"
_ATR = rf"(?P<k>{_N})\s*(?:x\s*)?atrs?(?:\s*\(?\s*(?P<n>\d+)\s*\)?)?"

_ORDERS: list[tuple[str, re.Pattern[str]]] = [
    (key, re.compile(p))
    for key, p in [
        ("trailing_atr", rf"{_B}{_TRAIL_EN}\s*(?:of|at|=|:)?\s*{_ATR}{_E}"),
        ("trailing_atr", rf"{_B}(?:an?\s+)?{_ATR}\s*{_TRAIL_EN}{_E}"),
        ("trailing_stop", rf"{_B}(?:an?\s+)?{_PCT}\s*{_TRAIL_EN}{_E}"),
        ("trailing_stop", rf"{_B}{_TRAIL_EN}\s*(?:of|at|=|:)?\s*{_PCT}"),
        ("trailing_stop", rf"{_TRAIL_KO}{_KO_P}\s*{_PCT}"),
        ("trailing_stop", rf"{_PCT}\s*(?:의\s*)?{_TRAIL_KO}"),
        ("take_profit", rf"{_B}(?:an?\s+)?{_PCT}\s*{_TP_EN}{_E}"),
        ("take_profit", rf"{_B}{_TP_EN}\s*(?:of|at|=|:)?\s*{_PCT}"),
        ("take_profit", rf"{_TP_KO}{_KO_P}\s*{_PCT}"),
        ("take_profit", rf"{_PCT}\s*(?:에서\s*)?{_TP_KO}"),
        ("stop_loss", rf"{_B}(?:an?\s+)?{_PCT}\s*{_STOP_EN}{_E}"),
        ("stop_loss", rf"{_B}{_STOP_EN}\s*(?:of|at|=|:)?\s*{_PCT}"),
        ("stop_loss", rf"{_STOP_KO}{_KO_P}\s*{_PCT}"),
        ("stop_loss", rf"{_PCT}\s*(?:에서\s*)?{_STOP_KO}"),
        ("risk", rf"{_B}risk(?:ing)?\s*(?:of\s*)?{_PCT}(?:\s*(?:of\s+(?:equity|capital))?\s*"
                 rf"(?:per|a|each)\s+trade)?"),
        ("risk", rf"(?:리스크|위험)(?:은|는)?\s*{_PCT}"),
        ("size", rf"{_B}(?:position\s+)?size\s*(?:of|=|:)?\s*{_PCT}"),
        ("size", rf"{_B}(?:using|invest(?:ing)?|with)\s+{_PCT}\s*of\s+(?:equity|capital|the "
                 rf"account|cash){_E}"),
        ("size", rf"(?:비중|투자\s*비중)(?:은|는)?\s*{_PCT}"),
    ]
]  # fmt: skip

# ---------------------------------------------------------------------------- conditions
_WIN = r"(?:[- ]?(?:day|bar|period|일)s?)?"
_OPERANDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), kind)
    for p, kind in [
        (rf"(?:the\s+)?(?P<a>\d+){_WIN}[- ]?rsi{_E}", "rsi"),
        (rf"(?:the\s+)?rsi(?:\s*\(\s*(?P<a>\d+)\s*\)|\s+(?P<b>\d+)(?!\s*(?:%|\.\d)))?{_E}", "rsi"),
        (r"(?:the\s+)?(?:macd\s+)?signal(?:\s+line)?(?![\w])|macd\s*시그널", "macd_signal"),
        (r"(?:the\s+)?macd(?:\s+line)?(?![\w])", "macd"),
        (r"(?:the\s+)?(?:lower\s+(?:bollinger\s+)?band|bollinger\s+lower(?:\s+band)?"
         r"|볼린저\s*(?:밴드\s*)?하단)", "bb_lower"),
        (r"(?:the\s+)?(?:upper\s+(?:bollinger\s+)?band|bollinger\s+upper(?:\s+band)?"
         r"|볼린저\s*(?:밴드\s*)?상단)", "bb_upper"),
        (r"(?:the\s+)?(?:middle|mid)\s+(?:bollinger\s+)?band", "bb_mid"),
        (r"(?:the\s+)?(?P<a>\d+)\s*일\s*(?:지수\s*이동\s*평균선?|지수\s*이평선?)", "ema"),
        (r"(?:the\s+)?(?P<a>\d+)\s*일\s*(?:단순\s*)?(?:이동\s*평균선?|이평선?|평균선)", "sma"),
        (rf"(?:the\s+)?(?P<a>\d+){_WIN}[- ]?(?P<k>simple moving average|exponential moving "
         rf"average|weighted moving average|moving average|sma|ema|wma|ma){_E}", "ma"),
        (rf"(?:the\s+)?(?P<k>simple moving average|exponential moving average|weighted moving "
         rf"average|moving average|sma|ema|wma|ma)\s*(?:\(\s*(?P<a>\d+)\s*\)|(?P<b>\d+)){_E}",
         "ma"),
        (rf"(?:the\s+)?(?P<a>\d+){_WIN}[- ]?(?P<k>high|low){_E}", "channel"),
        (rf"(?:the\s+)?(?:stock(?:'s)?\s+|share\s+)?(?:closing\s+price|close|price){_E}"
         rf"|(?:종가|주가|가격)", "close"),
        (rf"(?:it|its|it's|they){_E}", "it"),
    ]
]  # fmt: skip
_MA = {"simple moving average": "sma", "moving average": "sma", "ma": "sma", "sma": "sma",
       "exponential moving average": "ema", "ema": "ema", "weighted moving average": "wma",
       "wma": "wma"}  # fmt: skip
_VERB_UP = r"(?:is|are|goes|go|rises?|moves?|climbs?|gets?|trades?|closes?|stays?|jumps?)"
_VERB_DOWN = r"(?:is|are|goes|go|drops?|falls?|dips?|moves?|gets?|trades?|closes?|stays?|sinks?)"
_KO_IF = r"(?:하면|되면|이\s*되면|이면|으면|면|일\s*때|할\s*때|시)?"
_CMPS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), op)
    for p, op in [
        (r"(?:is\s+)?cross(?:es|ed|ing)?\s+(?:above|over)|cross(?:es)?\s+up(?:\s+through)?"
         r"|breaks?\s+(?:out\s+)?above", "crosses_above"),
        (r"(?:is\s+)?cross(?:es|ed|ing)?\s+(?:below|under)|cross(?:es)?\s+down(?:\s+through)?"
         r"|breaks?\s+below", "crosses_below"),
        (rf"(?:{_VERB_UP}\s+)?(?:above|over|greater\s+than|higher\s+than|more\s+than|"
         rf"exceeds?)(?![\w])|>", ">"),
        (rf"(?:{_VERB_DOWN}\s+)?(?:below|under|less\s+than|lower\s+than)(?![\w])|<", "<"),
        (rf"(?:을|를|이|가)?\s*(?:상향\s*돌파|위로\s*돌파|골든\s*크로스|돌파){_KO_IF}",
         "crosses_above"),
        (rf"(?:을|를|이|가)?\s*(?:하향\s*돌파|아래로\s*돌파|데드\s*크로스|이탈){_KO_IF}",
         "crosses_below"),
        (rf"(?:보다\s*)?(?:위|초과|이상)(?:로|으로)?\s*(?:올라가|오르|넘어가|올라오)?{_KO_IF}"
         rf"|(?:보다\s*)?(?:크|높)(?:면|으면|아지면|을\s*때)|넘(?:으면|어가면|을\s*때)", ">"),
        (rf"(?:보다\s*)?(?:아래|밑|미만|이하)(?:로|으로)?\s*(?:떨어지|내려가|내려오|빠지)?"
         rf"{_KO_IF}|(?:보다\s*)?(?:작|낮)(?:으면|아지면|을\s*때)|떨어지면", "<"),
    ]
]  # fmt: skip
_NUMBER = re.compile(rf"(?P<a>-?{_N})(?![\d%])")
_FILLER = re.compile(
    rf"(?:when|whenever|if|once|then|is|are|the|a|an|as\s+soon\s+as|and|or|also|on|at|"
    rf"it's|its){_E}|(?:이|가|은|는|을|를|에|이고|고|그리고|또는){_E}|[,:;]"
)
_WORD = re.compile(rf"[\w{_H}]+|\S")
_JOIN = re.compile(rf"{_B}(?:and|or|그리고|또는){_E}|,")
_EN_VERBS = [
    ("buy", rf"{_B}(?:buys?|buying|go(?:es)?\s+long|enters?(?:\s+(?:a\s+)?long)?|get\s+in){_E}"),
    ("sell", rf"{_B}(?:sells?|selling|exits?|exiting|gets?\s+out|close[sd]?\s+(?:the\s+)?"
             rf"(?:position|trade)){_E}"),
]  # fmt: skip
_KO_VERBS = [
    ("buy", rf"{_B}(?:사고|사서|사면|사는|사|살|매수(?:하고|하면|하는|해|할)?|"
            rf"진입(?:하고|하는|해|할)?){_E}"),
    ("sell", rf"{_B}(?:팔고|팔아|팔면|파는|팔|매도(?:하고|하면|하는|해|할)?|"
             rf"청산(?:하고|하는|해|할)?){_E}"),
]  # fmt: skip
_VERBS = [(role, lang, re.compile(p)) for lang, vs in (("en", _EN_VERBS), ("ko", _KO_VERBS))
          for role, p in vs]  # fmt: skip
_EN_STOP = re.compile(r"\s(?:with|using|on|for|since|from|between|named|called|starting|until)"
                      r"\s|[.;]\s|[.;]$|:")  # fmt: skip
_NAME = [
    re.compile(r"(?<![\w])(?:called|named|name\s+it|with\s+the\s+name)\s+[\"'`]?"
               r"(?P<n>[A-Za-z][A-Za-z0-9_-]{0,63})[\"'`]?"),
    re.compile(r"이름(?:은|을|는)?\s*[\"'`]?(?P<n>[A-Za-z][A-Za-z0-9_-]{0,63})[\"'`]?"),
    re.compile(r"(?<![\w])[\"'`]?(?P<n>[A-Za-z][A-Za-z0-9_-]{0,63})[\"'`]?\s*(?:이라는|라는|"
               r"이라고|라고)(?:\s*이름)?"),
]  # fmt: skip


@dataclass
class RuleSpec:
    """What a sentence says about a strategy's rules and orders.

    ``entry``/``exit`` are rule texts (``None``: not said); ``orders`` the order options as
    chat values (``{"stop_loss": "5%"}``); ``name`` a name it gives; ``text`` the sentence with
    everything understood masked.
    """

    text: str
    entry: str | None = None
    exit: str | None = None
    orders: dict[str, str] = field(default_factory=dict)
    name: str | None = None
    #: roles of the clauses understood (``{"buy", "sell"}``), complete or not ("sells above 70"
    #: alone leaves out what is above 70: understood, but no rule without its buy clause)
    clauses: set[str] = field(default_factory=set)

    @property
    def has_rules(self) -> bool:
        """Whether a buy or sell condition was understood."""
        return self.entry is not None or self.exit is not None


class _Text:
    def __init__(self, text: str) -> None:
        self.s = text

    def mask(self, start: int, end: int) -> None:
        self.s = self.s[:start] + " " * (end - start) + self.s[end:]


Cond = tuple[str | None, str, str | None]  # (left, op, right); None: implied by the buy clause


def _operand(kind: str, m: re.Match[str]) -> str | None:
    g = m.groupdict()
    n = g.get("a") or g.get("b")
    if kind == "rsi":
        return f"rsi({n or 14})"
    if kind == "ma":
        return f"{_MA[g['k']]}({n})" if n else None
    if kind in ("sma", "ema"):
        return f"{kind}({n})"
    if kind == "channel":
        side = "highest(high" if g["k"] == "high" else "lowest(low"
        return f"{side}, {n})[1]"
    if kind in ("macd", "macd_signal", "bb_lower", "bb_upper", "bb_mid"):
        return f"{kind}()"
    if kind == "close":
        return "close"
    return None  # "it": what the buy clause compared


def _tokens(part: str, offset: int) -> list[tuple[str, str | None, int, int]]:
    """``(kind, value, start, end)`` tokens: ``x`` operand, ``num``, ``cmp``, ``?`` unknown."""
    out: list[tuple[str, str | None, int, int]] = []
    pos = 0
    while pos < len(part):
        if part[pos].isspace():
            pos += 1
            continue
        best: tuple[str, str | None, int] | None = None
        for pat, op in _CMPS:
            m = pat.match(part, pos)
            if m and m.end() > pos and (best is None or m.end() > best[2]):
                best = ("cmp", op, m.end())
        for pat, kind in _OPERANDS:
            m = pat.match(part, pos)
            if m and m.end() > pos and (best is None or m.end() > best[2]):
                best = ("x", _operand(kind, m), m.end())
        m = _NUMBER.match(part, pos)
        if m and (best is None or m.end() > best[2]):
            best = ("num", m.group("a"), m.end())
        f = _FILLER.match(part, pos)
        if f and f.end() > pos and (best is None or f.end() > best[2]):
            pos = f.end()
            continue
        if best is None:
            w = _WORD.match(part, pos)
            end = w.end() if w else pos + 1
            out.append(("?", part[pos:end], offset + pos, offset + end))
            pos = end
            continue
        out.append((best[0], best[1], offset + pos, offset + best[2]))
        pos = best[2]
    return out


def _condition(toks: list[tuple[str, str | None, int, int]], korean: bool) -> Cond | None:
    """One condition from its tokens (English order, or Korean with the comparison last), or
    ``None``."""
    kinds = [t[0] for t in toks]
    if "?" in kinds or kinds.count("cmp") != 1:
        return None
    i = kinds.index("cmp")
    op = str(toks[i][1])
    before, after = toks[:i], toks[i + 1 :]
    if korean and not after:  # A(가) B 위면 / B 위면 / (A가 B를) 상향 돌파하면
        if len(before) == 2 and before[0][0] == "x":
            return before[0][1], op, before[1][1]
        if len(before) == 1:
            return None, op, before[0][1]
        if not before:
            return None, op, None
        return None
    if len(before) > 1 or len(after) > 1 or (before and before[0][0] != "x"):
        return None
    left = before[0][1] if before else None
    right = after[0][1] if after else None
    return left, op, right


def _render(cond: Cond, like: Cond | None) -> str | None:
    left, op, right = cond
    if like is not None:
        left = left if left is not None else like[0]
        right = right if right is not None else like[2]
    if left is None or right is None:
        return None
    if op.startswith("crosses"):
        return f"{op}({left}, {right})"
    return f"{left} {op} {right}"


def _segments(text: str) -> list[tuple[str, int, int, int, int]]:
    """``(role, start, end, verb_start, verb_end)`` of each buy/sell clause (English: the words
    after the verb; Korean: the words before it)."""
    verbs = sorted(
        (
            (m.start(), m.end(), role, lang)
            for role, lang, pat in _VERBS
            for m in pat.finditer(text)
        ),
        key=lambda v: v[0],
    )
    out = []
    for i, (vs, ve, role, lang) in enumerate(verbs):
        if lang == "en":
            end = verbs[i + 1][0] if i + 1 < len(verbs) else len(text)
            stop = _EN_STOP.search(text, ve, end)
            out.append((role, ve, stop.start() if stop else end, vs, ve))
        else:
            start = verbs[i - 1][1] if i > 0 else 0
            cut = max(text.rfind(",", start, vs), text.rfind(".", start, vs))
            out.append((role, max(start, cut + 1), vs, vs, ve))
    return out


def _clause(text: str, start: int, end: int, korean: bool) -> tuple[list[Cond], int, int] | None:
    """The conditions of one clause and the span they cover, or ``None`` if not understood."""
    joins = [start, *(m.end() for m in _JOIN.finditer(text, start, end)), end]
    parts = []
    for a, b in itertools.pairwise(joins):
        toks = _tokens(text[a:b], a)
        if toks:
            parts.append(toks)
    if not parts:
        return None
    if korean:  # words before the first condition belong to the sentence ("전략 만들어줘, ...")
        first = parts[0]
        k = next((j for j, t in enumerate(first) if t[0] in ("x", "num", "cmp")), len(first))
        parts[0] = first[k:]
    conds = []
    for toks in parts:
        if not toks:
            continue
        cond = _condition(toks, korean)
        if cond is None:
            return None
        conds.append(cond)
    if not conds:
        return None
    covered = [t for toks in parts for t in toks]
    return conds, covered[0][2], covered[-1][3]


def _take_orders(t: _Text, spec: RuleSpec) -> None:
    for key, pat in _ORDERS:
        for m in list(pat.finditer(t.s)):
            if key == "trailing_atr":
                spec.orders.setdefault("trailing_stop", f"atr({m.group('n') or 14})*{m.group('k')}")
            else:
                spec.orders.setdefault(key, f"{m.group('v')}%")
            t.mask(m.start(), m.end())


def _take_name(t: _Text, original: str, spec: RuleSpec) -> None:
    for pat in _NAME:
        m = pat.search(t.s)
        if m:
            spec.name = original[m.start("n") : m.end("n")]
            t.mask(m.start(), m.end())
            return


def extract_rules(text: str, original: str | None = None) -> RuleSpec:
    """Rules, orders and a name from ``text`` (lower-case; ``original``: the same text in its
    own case, for the name); see the module docstring."""
    t = _Text(text)
    spec = RuleSpec(text)
    _take_orders(t, spec)
    found: dict[str, list[Cond]] = {}
    spans: list[tuple[int, int]] = []
    for role, start, end, vs, ve in _segments(t.s):
        korean = bool(re.search(f"[{_H}]", t.s[vs:ve]))
        got = _clause(t.s, start, end, korean)
        if got is None:
            continue
        conds, a, b = got
        found.setdefault(role, []).extend(conds)
        spans.append((a, ve) if korean else (vs, b))  # the verb and its conditions
    spec.clauses = set(found)
    buy, sell = found.get("buy", []), found.get("sell", [])
    like = buy[0] if buy else None
    entry = [_render(c, None) for c in buy]
    exit_ = [_render(c, like) for c in sell]
    if buy and all(entry):
        spec.entry = " and ".join(e for e in entry if e)
    if sell and all(exit_):
        spec.exit = " and ".join(e for e in exit_ if e)
    if found:
        for a, b in spans:
            t.mask(a, b)
        _take_name(t, original or text, spec)
    spec.text = t.s
    return spec
