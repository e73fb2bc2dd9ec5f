"""Rule text before the tree: limits, ``$param`` placeholders and pointed syntax errors.

``$`` is not Python syntax, so :func:`prepare` replaces each ``$name`` by ``_name`` (same
length, so every column stays right) and remembers where the ``$`` signs were; a name that
starts with ``_`` anywhere else is rejected by the parser. When Python's parser refuses the
text, :func:`diagnose` tokenizes it and says which token is wrong, e.g.
``'and' needs a condition on both sides at 14``.

Example:
    >>> text, dollars = prepare("ema($fast) > 3", "entry")
    >>> text, sorted(dollars)
    ('ema(_fast) > 3', [4])
    >>> diagnose("rsi(14) > 70 and", "exit")
    ("'and' needs a condition on both sides", 14)
"""

from __future__ import annotations

import io
import re
import tokenize

from .._errors import RuleError

__all__ = ["MAX_DEPTH", "MAX_LENGTH", "MAX_NODES", "MAX_WINDOW", "diagnose", "prepare"]

MAX_LENGTH = 1_000
"""Longest rule text, in characters."""
MAX_DEPTH = 32
"""Deepest nesting of the tree (calls, operators, parentheses)."""
MAX_NODES = 256
"""Most nodes in one rule (numbers, names, operators, calls)."""
MAX_WINDOW = 100_000
"""Largest window or lookback, in bars (and it must also be shorter than the data)."""

_DOLLAR = re.compile(r"\$([^\W\d]\w*)?")
_OPEN = {"(": ")", "[": "]"}
_CLOSE = {")": "(", "]": "["}
_WORD_OPS = {"and": "condition", "or": "condition"}
_CMP = {"<", "<=", ">", ">=", "==", "!="}
_ARITH = {"+", "-", "*", "/"}
_HINTS = {
    "&&": "use 'and'",
    "&": "use 'and'",
    "||": "use 'or'",
    "|": "use 'or'",
    "!": "use 'not'",
    "=": "use '==' to compare",
    "^": "there is no power operator",
    "**": "there is no power operator",
    "%": "write a fraction instead of a percent sign (5 % is 0.05)",
}


def prepare(text: str, field: str) -> tuple[str, set[int]]:
    """Checked text with ``$name`` as ``_name`` and the 0-based offsets of the ``$`` signs."""
    if not isinstance(text, str):
        raise RuleError(f"{field} must be text, got {type(text).__name__}", field)
    if len(text) > MAX_LENGTH:
        raise RuleError(f"{field} is {len(text)} characters long; the limit is {MAX_LENGTH}", field)
    if not text.strip():
        raise RuleError(f"{field} is empty; write a condition such as close > sma(50)", field)
    for i, ch in enumerate(text):
        if ch in "\r\n\t":
            continue
        if not ch.isprintable():
            raise RuleError(
                f"{field}: unexpected control character {ch!r} at {i + 1}", field, i + 1
            )
    dollars: set[int] = set()
    out = []
    last = 0
    for m in _DOLLAR.finditer(text):
        if m.group(1) is None:
            raise RuleError(
                f"{field}: '$' must be followed by a parameter name (e.g. $fast) at "
                f"{m.start() + 1}", field, m.start() + 1,
            )  # fmt: skip
        out.append(text[last : m.start()])
        out.append("_")
        dollars.add(m.start())
        last = m.start() + 1
    out.append(text[last:])
    flat = "".join(out)
    for ch in "\r\n\t":  # one line, same length: columns stay character offsets
        flat = flat.replace(ch, " ")
    return flat, dollars


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    toks: list[tokenize.TokenInfo] = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.INDENT,
                            tokenize.DEDENT, tokenize.COMMENT):  # fmt: skip
                continue
            toks.append(tok)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass  # what we have so far is enough to point at a problem
    return toks


def _is_name(tok: tokenize.TokenInfo | None) -> bool:
    return tok is not None and tok.type == tokenize.NAME


def _operand_end(tok: tokenize.TokenInfo | None) -> bool:
    if tok is None:
        return False
    if tok.type == tokenize.NAME:
        return tok.string not in ("and", "or", "not", "in", "is", "if", "else", "lambda")
    return tok.type == tokenize.NUMBER or tok.string in (")", "]")


def _operand_start(tok: tokenize.TokenInfo | None) -> bool:
    if tok is None:
        return False
    if tok.type == tokenize.NAME:
        return tok.string not in ("and", "or", "in", "is", "if", "else")
    return tok.type == tokenize.NUMBER or tok.string in ("(", "-", "+")


def diagnose(text: str, field: str) -> tuple[str, int | None]:
    """``(message, 1-based position)`` for text Python's parser rejected."""
    toks = _tokens(text)
    stack: list[tokenize.TokenInfo] = []
    for i, tok in enumerate(toks):
        s, col = tok.string, tok.start[1] + 1
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        hint = _HINTS.get(s.strip())
        keyword_arg = s == "=" and stack and stack[-1].string == "(" and _is_name(prev)
        if hint and tok.type in (tokenize.OP, tokenize.ERRORTOKEN) and not keyword_arg:
            return f"unexpected {s.strip()!r} ({hint})", col
        if tok.type == tokenize.ERRORTOKEN and s.strip():
            return f"unexpected character {s.strip()!r}", col
        if s in _OPEN:
            stack.append(tok)
        elif s in _CLOSE:
            if not stack or stack[-1].string != _CLOSE[s]:
                return f"{s!r} has no matching {_CLOSE[s]!r}", col
            if s == ")" and prev is not None and prev.string == ",":
                return "an argument is missing after ','", prev.start[1] + 1
            if s == "]" and prev is not None and prev.string == "[":
                return "'[]' needs a number of bars, e.g. close[1]", prev.start[1] + 1
            stack.pop()
        elif s in _WORD_OPS or s in _CMP or s in ("*", "/"):
            need = "condition" if s in _WORD_OPS else "value" if s in _CMP else "number"
            if not (_operand_end(prev) and _operand_start(nxt)):
                return f"{s!r} needs a {need} on both sides", col
        elif s in ("+", "-"):
            if not _operand_start(nxt):
                return f"{s!r} needs a number after it", col
        elif s == "not":
            if not _operand_start(nxt):
                return "'not' needs a condition after it", col
        elif s == ",":
            if not stack or stack[-1].string != "(":
                return "',' only separates the arguments of a function call", col
            if prev is not None and prev.string in ("(", ","):
                return "an argument is missing before ','", col
        if (
            prev is not None
            and _operand_end(prev)
            and _operand_start(tok)
            and s not in "-+"
            and not (s == "(" and _is_name(prev))  # f(...) is a call
        ):
            return f"missing operator between {prev.string!r} and {s!r}", col
    if stack:
        tok = stack[-1]
        return f"{tok.string!r} is never closed", tok.start[1] + 1
    return "invalid syntax", None
