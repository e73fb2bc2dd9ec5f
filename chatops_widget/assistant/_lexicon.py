"""Word lists for the offline intent parser: command keywords, templates, params, fillers.

Everything language-specific lives here so the parser modules stay pure logic. English words
are matched as whole words (with typo tolerance, see :func:`fuzzy_word`); Korean keywords are
matched as substrings of Hangul words because Korean glues particles onto words.
"""

from __future__ import annotations

#: Built-in strategy templates (the engine's template names).
TEMPLATES: tuple[str, ...] = (
    "sma_cross",
    "ema_cross",
    "rsi_reversion",
    "bollinger",
    "momentum",
    "donchian_breakout",
    "buy_and_hold",
)

#: Multi-word ways to name a template -> template name (matched on lower-cased text).
TEMPLATE_PHRASES: dict[str, str] = {
    r"simple moving average cross(?:over|ing)?": "sma_cross",
    r"exponential moving average cross(?:over|ing)?": "ema_cross",
    r"moving average cross(?:over|ing)?": "sma_cross",
    r"sma[ -]?cross(?:over|ing)?": "sma_cross",
    r"ema[ -]?cross(?:over|ing)?": "ema_cross",
    r"rsi[ -]?(?:mean[ -])?reversion": "rsi_reversion",
    r"rsi": "rsi_reversion",
    r"bollinger(?:[ -]?bands?)?": "bollinger",
    r"donchian(?:[ -]?(?:breakout|channels?))?": "donchian_breakout",
    r"buy[ -]?(?:and|&|n)[ -]?hold": "buy_and_hold",
    r"momentum": "momentum",
    r"볼린저(?:\s*밴드)?": "bollinger",
    r"모멘텀": "momentum",
    r"돈치안": "donchian_breakout",
    r"바이\s*앤\s*홀드": "buy_and_hold",
}

#: Parameter aliases -> canonical parameter name.
PARAM_ALIASES: dict[str, str] = {
    "fast": "fast",
    "빠른": "fast",
    "단기": "fast",
    "짧은": "fast",
    "slow": "slow",
    "느린": "slow",
    "장기": "slow",
    "window": "window",
    "윈도우": "window",
    "윈도": "window",
    "period": "period",
    "주기": "period",
    "lookback": "lookback",
    "look-back": "lookback",
    "look back": "lookback",
    "룩백": "lookback",
    "threshold": "threshold",
    "thresh": "threshold",
    "임계값": "threshold",
    "임계치": "threshold",
    "exit window": "exit_window",
    "exit_window": "exit_window",
    "exit": "exit_window",
    "lower": "lower",
    "upper": "upper",
    "k": "k",
    "sigma": "num_std",
    "oversold": "oversold",
    "overbought": "overbought",
    "num_std": "num_std",
    "std": "num_std",
    "cash": "cash",
    "capital": "cash",
    "자본": "cash",
    "commission": "commission",
    "fee": "commission",
    "fees": "commission",
    "수수료": "commission",
    "spread": "spread",
    "스프레드": "spread",
    "stop_loss": "stop_loss",
    "take_profit": "take_profit",
}

#: Generic parameter names -> the names a template may really use, tried in order when the
#: template does not have the generic name itself ("rsi_reversion period 14" -> window=14).
PARAM_FALLBACKS: dict[str, tuple[str, ...]] = {
    "window": ("lookback",),
    "period": ("window", "lookback"),
    "length": ("window", "lookback"),
    "lookback": ("window",),
    "threshold": ("lower",),
    "oversold": ("lower",),
    "overbought": ("upper",),
    "num_std": ("k",),
    "exit_window": ("exit",),
}

#: Parameters of the built-in templates (used when the engine cannot be imported).
TEMPLATE_PARAMS: dict[str, frozenset[str]] = {
    "sma_cross": frozenset({"fast", "slow", "short"}),
    "ema_cross": frozenset({"fast", "slow", "short"}),
    "rsi_reversion": frozenset({"window", "lower", "upper", "short"}),
    "bollinger": frozenset({"window", "k", "short"}),
    "momentum": frozenset({"lookback", "threshold", "short"}),
    "donchian_breakout": frozenset({"window", "exit_window", "short"}),
    "buy_and_hold": frozenset(),
}

#: Phrases that switch on short selling (the templates' boolean ``short`` parameter).
SHORT_ON = (
    r"(?:allow(?:ing)?|with|enable|and)\s+short(?:s|ing| selling)?|long[- /]short|숏\s*허용|공매도"
)

#: Words that may sit between a parameter name and its value ("fast ma 10", "느린선 30").
PARAM_SUFFIXES = ("ma", "sma", "ema", "window", "period", "length", "line", "선", "이평", "값")

#: Option keys written as ``key=value`` that are not strategy parameters.
OPTION_KEYS = {
    "symbol": "symbol",
    "ticker": "symbol",
    "sym": "symbol",
    "start": "start",
    "from": "start",
    "since": "start",
    "end": "end",
    "to": "end",
    "until": "end",
    "strategy": "ref",
    "template": "ref",
}

#: Lower-case tickers accepted without capitals (capitalised 1-5 letter words always count).
COMMON_TICKERS = frozenset(
    "goog googl aapl msft amzn tsla nvda meta nflx spy qqq iwm dia gld tlt vti voo amd intc"
    " btc eth alpha bravo charlie delta echo".split()
)

#: All-caps words that are not tickers.
SYMBOL_STOPWORDS = frozenset(
    "I A OK OKAY SMA EMA RSI MA MACD VS AND OR THE ON TO IN OF AT BY FOR PM AM KST UTC AI LLM API"
    " ID IDS CSV JSON ETF USD KRW US USA UK EU FAQ LOL OMG BTW FYI TY THX PLS ASAP TL DR IMO IMHO"
    " BUY SELL HOLD GO NO YES HI HEY PNL ROI CAGR MDD CPU GPU RAM FAST SLOW RUN HELP N B H".split()
)

#: Intent keywords. English: whole words; ``_fz`` sets allow typo matching.
EN_KEYWORDS: dict[str, frozenset[str]] = {
    "run": frozenset(
        "backtest backtests backtesting backtested run rerun test simulate simulation evaluate"
        " execute spin perform performance performs performed try run_backtest".split()
    ),
    "compare": frozenset(
        "compare comparison compares versus vs against better outperform outperforms win wins"
        " winner beat beats"
        " compare_strategies".split()
    ),
    "sweep": frozenset("sweep grid optimize optimise optimization optimisation scan".split()),
    "cancel": frozenset("cancel abort kill halt terminate stop".split()),
    "status": frozenset("status running progress job jobs runs queue queued".split()),
    "result": frozenset("result results summary output return returns stats".split()),
    "strategies": frozenset("strategies strategy".split()),
    "templates": frozenset("templates template".split()),
    "create": frozenset("create make new save add define build store".split()),
    "data": frozenset("data datasets dataset symbols tickers universe".split()),
    "help": frozenset("help commands command usage".split()),
}

#: Keywords that may be matched with a typo (others must be spelled exactly).
FUZZY_KEYWORDS = frozenset(
    "backtest backtesting simulate evaluate create compare comparison versus sweep optimize"
    " cancel abort terminate status progress result results summary strategies strategy"
    " templates datasets symbols tickers help commands".split()
)

#: Real words that look like typos of keywords but are not.
NOT_TYPOS = frozenset(
    "sleep sweet swept steep sweat sweap statue state states stats compute computer compete"
    " hello held hell heap kelp cancer resort resume resolve strategic symbol tickets".split()
)

#: Korean keyword substrings per intent.
KO_KEYWORDS: dict[str, tuple[str, ...]] = {
    "run": (
        "백테스트",
        "벡테스트",
        "백테",
        "벡테",
        "테스트",
        "돌려",
        "돌리",
        "실행",
        "시뮬",
        "성과",
        "수익률",
    ),
    "compare": ("비교", "비굣", "대비", "나아", "나은", "더 좋", "좋아"),
    "sweep": ("스윕", "그리드", "최적화", "탐색", "서치"),
    "cancel": ("취소", "중지", "중단", "멈춰", "멈추", "그만", "정지"),
    "status": ("상태", "진행", "상황", "현황", "돌아가는", "작업"),
    "result": ("결과",),
    "strategies": ("전략",),
    "templates": ("템플릿",),
    "create": ("만들", "생성", "추가"),
    "data": ("데이터", "종목", "심볼", "티커"),
    "help": ("도움말", "도움", "도와", "사용법", "명령어"),
}

#: Phrases that are a request for help on their own.
HELP_PHRASES = (
    r"what can you do",
    r"what do you do",
    r"how do i use (?:this|you|it|the bot)",
    r"how does this work",
    r"뭐 ?할 ?수 ?있\S*",
    r"뭘 ?할 ?수 ?있\S*",
    r"무엇을 ?할 ?수 ?있\S*",
    r"어떻게 ?써\S*",
    r"어떻게 ?사용\S*",
)

#: A question about how to use a command ("how do I sweep?", "비교는 어떻게 해?").
HOWTO_PATTERN = (
    r"\bhow (?:do|can|should|would) (?:i|we|you)\b|\bhow to\b|\bwhat does\b|\bwhat is the syntax"
    r"|\bsyntax\b|\busage\b|\bhelp\b|어떻게|사용법|도움말|방법"
)

#: The command each intent maps to when used as a /help topic.
HELP_TOPICS = {
    "run": "run_backtest",
    "compare": "compare_strategies",
    "sweep": "sweep",
    "cancel": "cancel",
    "status": "status",
    "result": "result",
    "strategies": "strategies",
    "data": "data",
    "templates": "templates",
    "create": "create_strategy",
}

#: Words that add no meaning to a request (may surround the keywords of a no-argument command).
EN_FILLER = frozenset(
    """a an the me my our your i we you us it this that these those all any some every please pls
    plz can could would will should do does did done is are am was were be been being have has had
    what what's whats which who how show list display give get tell see view check print find
    know let let's lets s to of in on for with about there here available current currently now
    right just again also and or some each mine ours so ok okay one ones anything doing
    go up in this session need want like see is there any all of the date dates range
    ranges cover covers covered period periods loaded load have got use using used options option
    set sets currently active pending many much still stored saved
    existing""".split()
)

#: Korean words (after particles are stripped) that add no meaning to a request.
KO_FILLER = frozenset(
    """보여줘 보여 보여주세요 보여줄래 알려줘 알려 알려주세요 알려줄래 줘
    주세요 좀 뭐 뭐가 뭐야 뭐있어 있어 있나 있니 있어요 있나요 있는
    있는지 있음 목록 리스트 어떤 무슨 지금 현재 확인 확인해줘 해줘 해
    해봐 다 전체 모든 사용 가능한 가능 할 수 다시 한번 가능해 돼 되는
    중인 중 거 것 들 목록좀 나열 나열해줘 리스트업 봐 볼래 보자 불러줘
    해주세요 하는 어떻게 하나요 하지 해요 하면 돼요 되나요 써요
    쓰는 새로 새 어때 어때요 저장된 저장한 등록된 어줘 어주세요 어줄래 어봐""".split()
)

#: Korean particles / endings stripped from the end of a Hangul word before filler lookup.
KO_PARTICLES = (
    "이랑",
    "으로",
    "에서",
    "하고",
    "까지",
    "부터",
    "들이",
    "들은",
    "들을",
    "들",
    "랑",
    "와",
    "과",
    "를",
    "을",
    "로",
    "에",
    "은",
    "는",
    "이",
    "가",
    "의",
    "도",
    "만",
    "요",
)
