"""From an :class:`~._parser.Analysis` to what the assistant says and does (:class:`Intent`).

Replies are in the user's language (Korean if the message has Hangul, else English): the
command it understood, a clarifying question with close-match suggestions, or a short pointer
to ``/help`` for conversation it cannot map.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from . import _lexicon as lx
from ._dates import Spans, anchor_to_data, relative_dates, relative_window
from ._fuzzy import close_matches
from ._parser import analyze
from ._research import research_note

__all__ = ["Intent", "interpret"]

_GREETING = re.compile(
    r"\b(?:hi|hello|hey|yo|morning|good (?:morning|evening|afternoon))\b|안녕|반가"
)
_THANKS = re.compile(r"\b(?:thanks?|thank you|thx|ty|cheers)\b|고마|감사|수고")

_MAX_LISTED = 12  # symbols named in a reply; /data lists them all

_TEXT = {
    "en": {
        "run": "Running `{cmd}`.",
        "unknown_ref": "I don't know {what} `{ref}`.",
        "did_you_mean": " Did you mean {options}?",
        "see_strategies": " Type /strategies to list them.",
        "unknown_symbol": "`{sym}` is not available: there is no data for it.",
        "available": " Available symbols: {symbols}.",
        "more": " (and {n} more; /data lists them all)",
        "try_instead": " Try `{cmd}` instead (nothing was run).",
        "see_data": " Type /data to list the symbols.",
        "strategy": "Which strategy should I backtest? For example `backtest strategy_1 on {sym}`.",
        "strategies": "Which strategies should I compare? Name two or more, for example "
        "`compare strategy_1 and strategy_2`.",
        "template": "Which template should I sweep? For example `sweep sma_cross fast 5 to 50 by 5`"
        " (templates: {templates}).",
        "run_id": "Which run? Give its id, for example `{verb} run_ab12`; /status lists the runs.",
        "action": "What should I do with {refs}? For example `backtest {ref}` or "
        "`compare {ref} and ...`.",
        "options": " Candidates: {options}.",
        "symbol": "Which symbol should `{cmd}` use? Add `symbol=...`, for example `on {sym}`.",
        "create_template": "Which template should the new strategy use? For example `create a "
        "strategy from sma_cross on {sym} with fast 5 slow 20` (templates: {templates}).",
        "compare_note": " (Each strategy runs on its own stored symbol and params, so I left "
        "out {dropped}.)",
        "exit": "When should it sell? For example `... and sells when RSI 14 is above 70` (or "
        'type the command: `/create_strategy name=.. entry="..." exit="..."`).',
        "entry": "When should it buy? For example `buys when RSI 14 is under 30 and ...` (or "
        'type the command: `/create_strategy name=.. entry="..." exit="..."`).',
        "greeting": "Hi! I run backtests from chat: try `backtest strategy_1 on {sym} since 2015`,"
        " or type /help to see every command.",
        "thanks": "You're welcome! Type /help whenever you need the command list.",
        "chat": "I can't map that to a command. Type /help to see what I can do, for example "
        "`backtest strategy_1 on {sym}` or `compare strategy_1 and strategy_2`.",
    },
    "ko": {
        "run": "`{cmd}` 실행할게요.",
        "unknown_ref": "`{ref}` {what}을(를) 찾을 수 없어요.",
        "did_you_mean": " 혹시 {options} 말씀인가요?",
        "see_strategies": " /strategies 로 목록을 볼 수 있어요.",
        "unknown_symbol": "`{sym}` 종목은 사용할 수 없어요: 데이터가 없어요.",
        "available": " 사용 가능한 종목: {symbols}.",
        "more": " (외 {n}개, /data 로 전체 목록을 볼 수 있어요)",
        "try_instead": " 대신 `{cmd}` 를 입력해 보세요 (아무것도 실행하지 않았어요).",
        "see_data": " /data 로 종목 목록을 볼 수 있어요.",
        "strategy": "어떤 전략을 백테스트할까요? 예: `strategy_1 {sym}로 백테스트해줘`",
        "strategies": "어떤 전략들을 비교할까요? 두 개 이상 알려주세요. 예: "
        "`strategy_1이랑 strategy_2 비교해줘`",
        "template": "어떤 템플릿을 스윕할까요? 예: `sma_cross fast 5부터 50까지 5씩 스윕` "
        "(템플릿: {templates})",
        "run_id": "어떤 실행(run)인가요? id를 알려주세요. 예: `run_ab12 {verb_ko}`. "
        "/status 로 실행 목록을 볼 수 있어요.",
        "action": "{refs}(으)로 무엇을 할까요? 예: `{ref} 백테스트해줘` 또는 "
        "`{ref}랑 ... 비교해줘`",
        "options": " 후보: {options}",
        "symbol": "`{cmd}` 을(를) 어떤 종목으로 할까요? 예: `{sym}로` 또는 `symbol={sym}`",
        "create_template": "새 전략에 어떤 템플릿을 쓸까요? 예: `sma_cross로 {sym} 전략 만들어줘 "
        "빠른 5 느린 20` (템플릿: {templates})",
        "compare_note": " (각 전략은 저장된 종목과 파라미터로 실행되므로 {dropped}은(는) 뺐어요.)",
        "exit": "언제 팔까요? 예: `... 70 위면 파는 전략` (또는 명령으로: "
        '`/create_strategy name=.. entry="..." exit="..."`)',
        "entry": "언제 살까요? 예: `RSI 14가 30 아래면 사고 ...` (또는 명령으로: "
        '`/create_strategy name=.. entry="..." exit="..."`)',
        "greeting": "안녕하세요! 채팅으로 백테스트를 돌려드려요. 예: `strategy_1 백테스트 돌려줘`."
        " 전체 명령은 /help 를 입력하세요.",
        "thanks": "천만에요! 명령 목록은 언제든 /help 로 볼 수 있어요.",
        "chat": "명령으로 이해하지 못했어요. /help 로 할 수 있는 일을 확인하세요. 예: "
        "`strategy_1 백테스트 돌려줘`, `strategy_1이랑 strategy_2 비교해줘`",
    },
}


@dataclass
class Intent:
    """What the assistant understood.

    ``command`` is the slash command to run (or None); ``reply`` the assistant's message;
    ``kind`` is ``"command"``, ``"clarify"`` (a question back) or ``"chat"`` (no command);
    ``missing`` names what a question back asks for (``"strategy"``, ``"symbol"`` ...);
    ``unknown`` is the strategy, template or symbol the server does not have (then
    ``missing`` is None: the request was complete, the reply says what is available);
    ``suggestions`` are close matches (or the available symbols) offered in the reply;
    ``direct`` is True when the whole sentence reads as a command request (every word a
    keyword, a name or filler), even one naming something unknown -- what a shared session
    answers without an @-mention.

    Example:
        >>> interpret("compare strategy_1 and strategy_2").command
        '/compare_strategies strategy_1 strategy_2'
        >>> interpret("고마워").kind
        'chat'
        >>> interpret("backtest strategy_1 on ALPHA").direct
        True
        >>> interpret("I backtested strategy_1 yesterday").direct  # conversation about it
        False
    """

    command: str | None
    reply: str
    kind: Literal["command", "clarify", "chat"]
    lang: str = "en"
    missing: str | None = None
    suggestions: list[str] = field(default_factory=list)
    unknown: str | None = None
    direct: bool = False


def _fmt(items: Iterable[str]) -> str:
    return ", ".join(f"`{i}`" for i in items)


def interpret(
    text: str,
    known_strategies: Iterable[str] | None = None,
    known_symbols: Iterable[str] | None = None,
    spans: Spans | None = None,
) -> Intent:
    """Understand a chat message and decide the assistant's reply (and command, if any).

    With ``known_strategies`` / ``known_symbols`` (ids, names and templates the server knows),
    a command naming something unknown becomes a clarifying question with close matches
    instead of a doomed run. With ``spans`` (what the data of a strategy or symbol covers), a
    relative period such as ``the last 3 years`` counts back from the end of that data, not
    from today, and the reply says which bars it covers (or that the window is cut).

    Example:
        >>> it = interpret("backtest strategy_12", known_strategies=["strategy_1", "strategy_2"])
        >>> it.kind, it.suggestions
        ('clarify', ['strategy_1', 'strategy_2'])
        >>> interpret("strategy_1 백테스트 돌려줘").reply
        '`/run_backtest strategy_1` 실행할게요.'
    """
    strategies = list(known_strategies) if known_strategies is not None else None
    symbols = list(known_symbols) if known_symbols is not None else None
    a = analyze(text, known_symbols=symbols, known_refs=strategies)
    t = _TEXT[a.lang]
    sym = symbols[0] if symbols else "SPY"
    if a.command:
        problem = _check_known(a, strategies, symbols, t)
        if problem:
            problem.direct = a.clean
            return problem
        template_wf = a.intent == "walkforward" and not a.command.split()[1].startswith("strat")
        if (a.intent in ("sweep", "create") or template_wf) and not a.entities.symbols:
            options = (symbols or [])[:5]
            reply = t["symbol"].format(cmd=a.command, sym=sym)
            reply += t["options"].format(options=_fmt(options)) if options else ""
            return Intent(None, reply, "clarify", a.lang, "symbol", options, direct=a.clean)
        dates, notes = _relative(a, text, spans, symbols)
        command = a.command
        for key, value in dates.items():  # anchored to the end of the data
            command = re.sub(rf"(?<=\s{key}=)\S+", value, command)
        reply = t["run"].format(cmd=command) + "".join(f" {n[:1].upper()}{n[1:]}." for n in notes)
        reply += research_note(a.note, a.lang)
        if a.intent == "compare":
            dropped = [s for _, s in a.entities.symbols]
            dropped += [f"{n}={v}" for _, n, v in a.entities.params]
            if dropped:
                reply += t["compare_note"].format(dropped=_fmt(dropped))
        return Intent(command, reply, "command", a.lang, direct=a.clean)
    if a.missing == "symbols" and a.clean:  # a portfolio without its symbols
        return Intent(
            None, research_note("symbols", a.lang), "clarify", a.lang, "symbols", direct=a.clean
        )
    if a.missing and a.clean:
        return _clarify(a, strategies, t, sym)
    low = a.text.lower()
    if _THANKS.search(low):
        key = "thanks"
    elif _GREETING.search(low):
        key = "greeting"
    else:
        key = "chat"
    return Intent(None, t[key].format(sym=sym), "chat", a.lang)


def _relative(a, text: str, spans: Spans | None, symbols) -> tuple[dict[str, str], list[str]]:
    """The command's dates anchored to the data it runs on, and what to say about them
    (unchanged, nothing to say, without ``spans`` or a relative period in ``text``)."""
    window = relative_window(text)
    rel = relative_dates(text)[0]
    dates = {k: a.entities.dates[k] for k in ("start", "end") if k in a.entities.dates}
    if spans is None or window is None or not rel or dates != rel:
        return dates, []  # no relative period, or absolute dates won
    refs = a.entities.ordered_refs()
    sym = sorted(a.entities.symbols)[0][1] if a.entities.symbols else None
    if a.intent == "compare":
        targets = [(r, None) for r in refs]
    else:
        targets = [(refs[0] if refs else None, sym or (symbols[0] if symbols else None))]
    return anchor_to_data(window, dates, targets, spans, a.lang)


def _check_known(a, strategies, symbols, t) -> Intent | None:
    if strategies is not None:
        known = {s.lower() for s in strategies} | set(lx.TEMPLATES)
        for ref in a.entities.ordered_refs():
            if ref.lower() not in known:
                options = close_matches(ref, [*strategies, *lx.TEMPLATES], max_distance=3)
                what = (
                    ("전략" if a.lang == "ko" else "strategy")
                    if ref[:8] == "strategy"
                    else ("템플릿" if a.lang == "ko" else "template")
                )
                reply = t["unknown_ref"].format(what=what, ref=ref)
                reply += t["did_you_mean"].format(options=_fmt(options)) if options else ""
                reply += t["see_strategies"]
                return Intent(None, reply, "clarify", a.lang, None, options, unknown=ref)
    # a comparison leaves symbols out (each strategy keeps its own), so they are not checked
    if symbols is not None and a.entities.symbols and a.intent != "compare":
        known_syms = {s.upper() for s in symbols}
        for _, s in a.entities.symbols:
            if s.upper() not in known_syms:
                return _unknown_symbol(a, s, symbols, t)
    return None


def _unknown_symbol(a, sym: str, symbols: list[str], t) -> Intent:
    """``sym`` is not in the catalog: say so, list what is, suggest the command with one."""
    close = close_matches(sym, symbols, max_distance=2)
    reply = t["unknown_symbol"].format(sym=sym)
    reply += t["did_you_mean"].format(options=_fmt(close)) if close else ""
    if symbols:
        shown = symbols[:_MAX_LISTED]
        reply += t["available"].format(symbols=_fmt(shown))
        if len(symbols) > len(shown):
            reply += t["more"].format(n=len(symbols) - len(shown))
        alt = close[0] if close else symbols[0]
        instead = re.sub(rf"(?<=\ssymbol=){re.escape(sym)}(?=\s|$)", lambda _: alt, a.command)
        if instead != a.command:
            reply += t["try_instead"].format(cmd=instead)
    else:
        reply += t["see_data"]
    options = close or symbols[:_MAX_LISTED]
    return Intent(None, reply, "clarify", a.lang, None, options, unknown=sym)


def _clarify(a, strategies, t, sym) -> Intent:
    missing = a.missing
    options: list[str] = []
    refs = a.entities.ordered_refs()
    if missing in ("strategy", "strategies"):
        pool = [s for s in (strategies or []) if s not in refs]
        options = pool[:5]
    elif missing == "template":
        options = list(lx.TEMPLATES)
    verb = {"cancel": "cancel", "result": "result"}.get(a.intent or "", "result")
    verb_ko = "취소해줘" if a.intent == "cancel" else "결과 보여줘"
    if missing == "template" and a.intent == "create":
        missing_text = t["create_template"]
    else:
        missing_text = t[missing]
    reply = missing_text.format(
        sym=sym,
        templates=", ".join(lx.TEMPLATES),
        verb=verb,
        verb_ko=verb_ko,
        refs=_fmt(refs),
        ref=refs[0] if refs else "strategy_1",
    )
    if options and missing != "template":
        reply += t["options"].format(options=_fmt(options))
    return Intent(None, reply, "clarify", a.lang, missing, options)
