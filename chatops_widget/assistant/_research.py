"""Research phrases for the offline parser: walk-forward, strategies across symbols, portfolios.

:func:`take_research` reads the research words of a sentence first and masks them (so "6
months test" is neither a date nor the keyword "test"); :func:`research_command` then builds the
command from them and the entities the usual parser found:

- walk-forward ("walk forward", "walk-forward", "WFO", "워크포워드", "전진 분석") with
  ``train``/``test`` periods ("2 years train", "train on 500 bars", "학습 2년", "테스트 6개월"),
  "anchored"/"expanding" ("앵커드", "누적"), "by sortino", "at least 10 trades" ->
  ``/walkforward <ref> symbol=.. train=2y test=6m [anchored=true] [metric=..] [min_trades=..]
  [ranges]`` (without ranges the server sweeps half to twice each value);
- "on all symbols" / "every symbol" / "모든 종목" (or two or more symbols in a comparison) ->
  ``/compare_strategies <refs> symbols=*`` (``symbols=A,B``);
- "portfolio" / "포트폴리오" with symbols, "weights 60/40", "rebalanced monthly" ("월별
  리밸런싱") -> ``/run_backtest <ref> symbols=A,B [weights=..] [rebalance=..]``; without a
  strategy it is a buy-and-hold portfolio (the reply says so).

Example:
    >>> r, rest = take_research("walk forward sma_cross on ALPHA, 2 years train, 6 months test")
    >>> r.walkforward, r.train, r.test, rest.split()
    (True, '2y', '6m', ['sma_cross', 'on', 'ALPHA,', ','])
    >>> take_research("ALPHA랑 BRAVO로 포트폴리오 백테스트 월별 리밸런싱")[0].rebalance
    'monthly'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Research", "research_command", "research_note", "take_research"]

_NUM = r"(\d+(?:\.\d+)?)"
_UNIT = (
    r"(years?|yrs?|y|months?|mos?|m|weeks?|wks?|w|days?|d|trading days|bars?|candles?"
    r"|년|개월|달|주|일|봉|바|거래일)"
)
_PERIOD = rf"{_NUM}\s*-?\s*{_UNIT}(?![a-z])"
_TRAIN = r"(?:train(?:ing)?|in[\s-]?sample|학습|훈련|인\s*샘플)"
_TEST = r"(?:test(?:ing)?|out[\s-]?of[\s-]?sample|oos|validation|검증|테스트|아웃\s*샘플)"
_GLUE = r"(?:\s+(?:windows?|periods?|data|set)|\s*(?:기간|구간))?"
_WF = re.compile(
    r"(?<![\w])(?:walk[\s-]?forward(?:\s+(?:optimi[sz]ation|optimi[sz]e|analysis|test(?:ing)?))?"
    r"|wfo|워크\s*포워드|전진\s*분석)(?![a-z])"
)
_ANCHORED = re.compile(
    r"(?<![\w])(?:anchored|expanding(?:\s+windows?)?|앵커드|누적\s*(?:학습|윈도우)?|확장\s*윈도우)"
)
_ROLLING = re.compile(r"(?<![\w])(?:rolling(?:\s+windows?)?|롤링)")
_METRICS = {
    "sharpe": "sharpe", "샤프": "sharpe", "sortino": "sortino", "소르티노": "sortino",
    "calmar": "calmar", "칼마": "calmar", "cagr": "cagr", "total return": "total_return",
    "returns": "total_return", "return": "total_return", "max drawdown": "max_drawdown",
    "maximum drawdown": "max_drawdown", "drawdown": "max_drawdown", "낙폭": "max_drawdown",
}  # fmt: skip
_METRIC_WORDS = "|".join(sorted(map(re.escape, _METRICS), key=len, reverse=True))
_METRIC = re.compile(
    rf"(?<![\w])(?:(?:by|optimi[sz]e(?:\s+for)?|optimi[sz]ing|maximi[sz]e|maximi[sz]ing|"
    rf"ranked\s+by|metric\s*=?|choose\s+by|pick\s+by)\s+(?:the\s+)?({_METRIC_WORDS})"
    rf"(?:\s+ratio)?|({_METRIC_WORDS})\s*(?:비율\s*)?(?:기준|으로|로)\s*(?:최적화|선택)?)"
)
_MIN_TRADES = re.compile(
    r"(?:at\s+least|min(?:imum)?(?:\s+of)?|>=)\s*(\d+)\s*trades?"
    r"|min[_\s]?trades\s*=?\s*(\d+)|최소\s*(\d+)\s*(?:회|번|건)?\s*(?:의\s*)?(?:거래|매매)"
    r"|(?:거래|매매)\s*(\d+)\s*(?:회|번|건)\s*이상"
)
_ALL = re.compile(
    r"(?<![\w])(?:(?:on|across|over|for|in)\s+)?(?:all|every|each)\s+(?:the\s+|of\s+the\s+)?"
    r"(?:symbols?|tickers?|stocks?|assets?|instruments?|markets?)(?![\w])"
    r"|(?<![\w])(?:across|over)\s+the\s+(?:whole\s+|entire\s+)?universe"
    r"|(?:모든|전체|전)\s*(?:종목|심볼|티커)(?:들)?|(?:종목|심볼)\s*전체"
)
_PORTFOLIO = re.compile(r"(?<![\w])portfolios?(?![\w])|포트폴리오|포폴")
_WEIGHTS = re.compile(
    r"(?:weights?|weighted|비중)\s*(?:of|=|:|at)?\s*"
    r"(\d+(?:\.\d+)?%?(?:\s*(?:,|/|and|:|\s)\s*\d+(?:\.\d+)?%?)+)"
    r"|(?<![\w.])(\d+(?:\.\d+)?\s*/\s*\d+(?:\.\d+)?(?:\s*/\s*\d+(?:\.\d+)?)*)(?![\w.])"
    r"|(?:equal(?:ly)?[\s-]+weight(?:s|ed)?|equal\s+weights|동일\s*비중|균등\s*비중)"
)
_REBALANCE = re.compile(
    r"rebalanc\w*\s+(?:every\s+|each\s+|once\s+a\s+)?(monthly|month|weekly|week)"
    r"|(monthly|weekly)\s+rebalanc\w*|(?:no|without)\s+rebalanc\w*|never\s+rebalanc\w*"
    r"|(월별|매월|월간|매달|한\s*달마다|월\s*단위|주별|매주|주간|주\s*단위)\s*리밸런싱"
    r"|리밸런싱\s*(?:은|는)?\s*(월별|매월|월간|매달|주별|매주|주간|없이|안\s*함|없음)"
    r"|리밸런싱\s*(?:없이|안\s*함|없음)"
)
_MONTHLY = {"monthly", "month", "월별", "매월", "월간", "매달", "월"}
_WEEKLY = {"weekly", "week", "주별", "매주", "주간", "주"}


@dataclass
class Research:
    """The research words of a sentence (``None``: not said)."""

    walkforward: bool = False
    train: str | None = None
    test: str | None = None
    anchored: bool = False
    metric: str | None = None
    min_trades: int | None = None
    all_symbols: bool = False
    portfolio: bool = False
    weights: str | None = None
    rebalance: str | None = None
    seen: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.walkforward or self.all_symbols or self.portfolio


def _period(num: str, unit: str) -> str:
    n = float(num)
    u = unit.lower()
    if u.startswith(("y", "년")):
        return f"{int(n)}y" if n.is_integer() else f"{round(n * 12)}m"
    if u.startswith(("mo", "개월", "달")) or u == "m":
        return f"{int(n)}m" if n.is_integer() else f"{round(n * 30)}d"
    if u.startswith(("w", "주")):
        return f"{int(n)}w"
    if u.startswith(("d", "일")):
        return f"{int(n)}d"
    return str(int(n))  # bars, trading days


class _Masked:
    def __init__(self, text: str) -> None:
        self.text = text

    def take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        low = self.text.lower()
        found = list(pattern.finditer(low))
        for m in found:
            self.text = self.text[: m.start()] + " " * (m.end() - m.start()) + self.text[m.end() :]
        return found


def _forms(words: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """``train 2y`` (the role first) and ``2y train`` (the period first)."""
    first = re.compile(
        rf"{words}{_GLUE}\s{{0,3}}(?:on|of|for|over|=|:|은|는|을|를|으로|로)?"
        rf"\s{{0,3}}(?:the\s+)?(?:last\s+|first\s+)?{_PERIOD}"
    )
    after = re.compile(
        rf"{_PERIOD}\s{{0,3}}(?:of\s+|을\s*|를\s*|으로\s*|로\s*)?(?:the\s+)?"
        rf"{words}"
    )
    return first, after  # fmt: skip


def _periods(t: _Masked, r: Research) -> None:
    """``train``/``test``: one way of writing them for both ("2y train, 6m test" or "train 2y,
    test 6m"), so "2y train 6m test" does not pair 6m with train."""
    low = t.text.lower()
    forms = {role: _forms(w) for role, w in (("train", _TRAIN), ("test", _TEST))}
    found = {role: [p.search(low) for p in pats] for role, pats in forms.items()}
    for k in (1, 0):  # the period first, then the role first
        if found["train"][k] and found["test"][k]:
            pick = {"train": k, "test": k}
            break
    else:
        pick = {role: 1 if found[role][1] else 0 for role in found}
    for role, k in pick.items():
        m = found[role][k]
        if m is not None:
            setattr(r, role, _period(m.group(1), m.group(2)))
            t.text = t.text[: m.start()] + " " * (m.end() - m.start()) + t.text[m.end() :]


def _weights(m: re.Match[str]) -> str:
    text = m.group(1) or m.group(2)
    if text is None:
        return "equal"
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
    if nums and (sum(nums) > 1.5 or "%" in text):
        nums = [x / 100 for x in nums]
    return ",".join(f"{x:g}" for x in nums)


def take_research(text: str) -> tuple[Research, str]:
    """The research words of ``text`` and the text with them masked (blanks, same length)."""
    r = Research()
    t = _Masked(text)
    if t.take(_WF):
        r.walkforward = True
        _periods(t, r)
        r.anchored = bool(t.take(_ANCHORED))
        t.take(_ROLLING)
        for m in t.take(_METRIC)[:1]:
            r.metric = _METRICS[(m.group(1) or m.group(2)).strip()]
        for m in t.take(_MIN_TRADES)[:1]:
            r.min_trades = int(next(g for g in m.groups() if g))
    if t.take(_ALL):
        r.all_symbols = True
    if t.take(_PORTFOLIO):
        r.portfolio = True
    if r.portfolio:
        for m in t.take(_WEIGHTS)[:1]:
            r.weights = _weights(m)
        for m in t.take(_REBALANCE)[:1]:
            word = next((g for g in m.groups() if g), "none").replace(" ", "")
            r.rebalance = (
                "monthly" if word in _MONTHLY or word.startswith(("한달", "월")) else
                "weekly" if word in _WEEKLY or word.startswith("주") else "none"
            )  # fmt: skip
    return r, t.text


def _symbols(entities: Any) -> list[str]:
    out: list[str] = []
    for _, s in sorted(entities.symbols):
        if s not in out:
            out.append(s)
    return out


def research_command(
    r: Research, entities: Any, refs: list[str], hits: frozenset[str], options: Any
) -> tuple[str, str | None, str | None, str | None]:
    """``(intent, command, missing, note)`` for the research request ``r``; ``options(target,
    dates_only)`` renders the usual ``symbol= start= end= params`` options."""
    symbols = _symbols(entities)
    if r.walkforward:
        if not refs:
            return "walkforward", None, "strategy", None
        opts = options(refs[0], False)
        head, rest = [o for o in opts if o.startswith("symbol=")], [
            o for o in opts if not o.startswith("symbol=")
        ]  # fmt: skip
        dates = [o for o in rest if o.startswith(("start=", "end="))]
        params = [o for o in rest if o not in dates]
        extra = [f"train={r.train or '2y'}", f"test={r.test or '6m'}"]
        extra += ["anchored=true"] if r.anchored else []
        extra += [f"metric={r.metric}"] if r.metric else []
        extra += [f"min_trades={r.min_trades}"] if r.min_trades is not None else []
        note = None if r.train and r.test else "periods"
        cmd = " ".join(["/walkforward", refs[0], *head, *dates, *extra, *params])
        return "walkforward", cmd, None, note
    dates = options(None, True)
    if r.portfolio:
        if not symbols and not r.all_symbols:
            return "portfolio", None, "symbols", None
        target = next((x for x in refs), None)
        note = None if target else "buy_and_hold"
        opts = [o for o in options(target or "buy_and_hold", False) if not o.startswith("symbol=")]
        sym = "*" if r.all_symbols else ",".join(symbols)
        extra = [f"weights={r.weights}"] if r.weights else []
        extra += [f"rebalance={r.rebalance}"] if r.rebalance else []
        dated = [o for o in opts if o.startswith(("start=", "end="))]
        params = [o for o in opts if o not in dated]
        cmd = " ".join(["/run_backtest", target or "buy_and_hold", f"symbols={sym}", *dated,
                        *extra, *params])  # fmt: skip
        return "portfolio", cmd, None, note
    if not refs:
        return "universe", None, "strategies", None
    sym = "*" if r.all_symbols else ",".join(symbols)
    return (
        "universe",
        " ".join(["/compare_strategies", *refs, f"symbols={sym}", *dates]),
        None,
        None,
    )


def universe_wanted(r: Research, entities: Any, hits: frozenset[str], refs: list[str]) -> bool:
    """A comparison over symbols: "on all symbols", or two or more symbols named with a
    comparison (one symbol keeps the usual comparison, each strategy on its own)."""
    if r.walkforward or r.portfolio:
        return False
    if r.all_symbols:
        return bool(refs) and bool(hits & {"compare", "run"})
    return len(_symbols(entities)) >= 2 and len(refs) >= 1 and "compare" in hits


_NOTES = {
    "en": {
        "periods": " (no periods given: train=2y test=6m; say e.g. '3 years train, 1 year test')",
        "buy_and_hold": " (no strategy named: a buy-and-hold portfolio; say e.g. 'with "
        "strategy_1' to trade one)",
        "symbols": "Which symbols should the portfolio hold? For example `portfolio of "
        "strategy_1 on ALPHA and BRAVO`, or `on all symbols`.",
    },
    "ko": {
        "periods": " (기간을 말하지 않아 train=2y test=6m 로 했어요. 예: '학습 3년, 테스트 1년')",
        "buy_and_hold": " (전략을 말하지 않아 바이앤홀드 포트폴리오로 했어요. 예: 'strategy_1로')",
        "symbols": "포트폴리오에 어떤 종목을 담을까요? 예: `strategy_1로 ALPHA랑 BRAVO 포트폴리오 "
        "백테스트` 또는 `모든 종목`",
    },
}


def research_note(key: str | None, lang: str) -> str:
    """The reply's note for a default the parser filled in (or the question for ``symbols``)."""
    return _NOTES.get(lang, _NOTES["en"]).get(key or "", "")
