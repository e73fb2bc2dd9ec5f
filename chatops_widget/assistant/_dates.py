"""Date phrases -> ``start=`` / ``end=`` options (ISO ``YYYY-MM-DD``).

Rules (documented in docs/assistant.md):

- a date names a period: ``2010`` (a year), ``2015-06`` / ``June 2015`` / ``2015년 6월`` (a month),
  ``2015-06-03`` / ``June 3, 2015`` / ``2015년 6월 3일`` (a day);
- ``start`` is the first day of its period, ``end`` the last day (``until 2019`` -> 2019-12-31);
- ``since / from / after / starting / 부터 / 이후`` mark a start, ``until / to / through / before /
  up to / 까지 / 이전`` an end; ``from A to B``, ``between A and B``, ``A-B``, ``A~B``,
  ``A부터 B까지`` a range; ``in 2015`` or a bare date means that whole period;
- relative to today: ``the last 2 years`` / ``past 6 months`` / ``previous 3 weeks`` /
  ``past year`` / ``최근 2년`` / ``지난 6개월`` start that long ago (no end); ``last year`` /
  ``last month`` / ``작년`` / ``지난달`` are the previous calendar year or month; ``this year`` /
  ``year to date`` / ``YTD`` / ``올해`` start on January 1st. Absolute dates win over relative ones.

Example:
    >>> extract_dates("since march 2015 on GOOG")[0]
    {'start': '2015-03-01'}
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re

__all__ = ["extract_dates", "extract_split", "normalize_date", "relative_dates"]

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12,
    "december": 12,
}  # fmt: skip
_MON = r"(?P<{0}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_Y = r"(?P<{0}>(?:19|20)\d\d)"

_ATOM = "|".join(
    [
        _Y.format("y1") + r"[-/.](?P<m1>\d{1,2})[-/.](?P<d1>\d{1,2})(?!\d)",
        _Y.format("y2") + r"\s*년\s*(?P<m2>\d{1,2})\s*월\s*(?P<d2>\d{1,2})\s*일",
        _Y.format("y3") + r"\s*년\s*(?P<m3>\d{1,2})\s*월",
        _MON.format("mn4") + r"\s+(?P<d4>\d{1,2})(?:st|nd|rd|th)?,?\s+" + _Y.format("y4"),
        r"(?P<d5>\d{1,2})(?:st|nd|rd|th)?\s+" + _MON.format("mn5") + r",?\s+" + _Y.format("y5"),
        _MON.format("mn6") + r",?\s+(?:of\s+)?" + _Y.format("y6"),
        _Y.format("y7") + r"[-/.](?P<m7>\d{1,2})(?![-/.]?\d)",
        _Y.format("y8") + r"(?:\s*년)?",
    ]
)
_ATOM_RE = re.compile(r"(?<![\w.])(?:" + _ATOM + r")(?![A-Za-z0-9])", re.IGNORECASE)

_RANGE_SEP = re.compile(
    r"^\s*(?:-|–|~|to|through|thru|till|until|and|부터|에서)\s*$", re.IGNORECASE
)
_START_BEFORE = re.compile(
    r"(?:since|from|after|starting(?:\s+(?:from|in|on|at))?|beginning(?:\s+(?:in|on))?|begin"
    r"|start(?:ing)?|as\s+of|between)\s*$",
    re.IGNORECASE,
)
_END_BEFORE = re.compile(
    r"(?:until|till|til|to|through|thru|before|up\s+to|upto|ending(?:\s+(?:in|on))?|end(?:ing)?"
    r"|by)\s*$",
    re.IGNORECASE,
)
_START_AFTER = re.compile(r"^\s*(?:부터|이후|since|onwards?|onward)", re.IGNORECASE)
_END_AFTER = re.compile(r"^\s*(?:까지|이전)")


def _period(m: re.Match[str]) -> tuple[str, str]:
    g = m.groupdict()
    for i in range(1, 9):
        y = g.get(f"y{i}")
        if not y:
            continue
        year = int(y)
        month = g.get(f"m{i}") or g.get(f"mn{i}")
        day = g.get(f"d{i}")
        if month is None:
            return f"{year:04d}-01-01", f"{year:04d}-12-31"
        mon = int(month) if month.isdigit() else _MONTHS[month.lower().rstrip(".")]
        if not 1 <= mon <= 12:
            raise ValueError(month)
        last = calendar.monthrange(year, mon)[1]
        if day is None:
            return f"{year:04d}-{mon:02d}-01", f"{year:04d}-{mon:02d}-{last:02d}"
        d = int(day)
        if not 1 <= d <= last:
            raise ValueError(day)
        iso = f"{year:04d}-{mon:02d}-{d:02d}"
        return iso, iso
    raise ValueError(m.group(0))


def normalize_date(value: str, *, end: bool = False) -> str:
    """Normalise one date written any supported way to ``YYYY-MM-DD`` (unknown: returned as is).

    Example:
        >>> normalize_date("2015-06", end=True)
        '2015-06-30'
    """
    m = _ATOM_RE.fullmatch(value.strip())
    if not m:
        return value
    try:
        first, last = _period(m)
    except ValueError:
        return value
    return last if end else first


def extract_dates(
    text: str, today: _dt.date | None = None
) -> tuple[dict[str, str], list[tuple[int, int]]]:
    """Find date phrases in ``text``; return ``({"start"?, "end"?}, spans consumed)``."""
    atoms = []
    for m in _ATOM_RE.finditer(text):
        try:
            atoms.append((m.start(), m.end(), *_period(m)))
        except ValueError:
            continue
    out: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(atoms):
        s, e, first, last = atoms[i]
        if i + 1 < len(atoms) and _RANGE_SEP.match(text[e : atoms[i + 1][0]]):
            _s2, e2, _, last2 = atoms[i + 1]
            out.setdefault("start", first)
            out.setdefault("end", last2)
            tail = _END_AFTER.match(text[e2:])
            spans.append((s, e2 + (tail.end() if tail else 0)))
            i += 2
            continue
        before, after = text[max(0, s - 30) : s], text[e:]
        if _START_AFTER.match(after) or _START_BEFORE.search(before):
            out.setdefault("start", first)
        elif _END_AFTER.match(after) or _END_BEFORE.search(before):
            out.setdefault("end", last)
        else:
            out.setdefault("start", first)
            out.setdefault("end", last)
        spans.append((s, e))
        i += 1
    rel, rel_spans = relative_dates(text, today)
    if rel and not out:
        out = rel
        spans.extend(rel_spans)
    return out, spans


_OOS_WORDS = r"(?:out[\s-]*of[\s-]*sample|oos|hold[\s-]*out|split(?:\s+(?:it|the\s+data))?)"
_SPLIT_BEFORE = re.compile(
    _OOS_WORDS + r"\s*(?:test\s+|period\s+)?(?:from|after|since|starting(?:\s+(?:from|in|on|at))?"
    r"|at|on|in|=|:)?\s*$",
    re.IGNORECASE,
)
_SPLIT_AFTER_KO = re.compile(r"^\s*(?:이후|부터)?\s*(?:의\s*)?(?:표본\s*외|아웃\s*오브\s*샘플)")


def extract_split(text: str) -> tuple[str | None, tuple[int, int] | None]:
    """An out-of-sample split date (``split=`` of ``/sweep``) and its span, or ``(None, None)``.

    Example:
        >>> extract_split("sweep fast 5-50 out of sample from 2021")
        ('2021-01-01', (16, 39))
        >>> extract_split("2022년 이후 표본외")[0]
        '2022-01-01'
    """
    for m in _ATOM_RE.finditer(text):
        try:
            first, _ = _period(m)
        except ValueError:
            continue
        before = _SPLIT_BEFORE.search(text[max(0, m.start() - 40) : m.start()])
        if before:
            return first, (max(0, m.start() - 40) + before.start(), m.end())
        after = _SPLIT_AFTER_KO.match(text[m.end() :])
        if after:
            return first, (m.start(), m.end() + after.end())
    return None, None


_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_UNIT = r"(?P<unit>years?|yrs?|months?|mos?|weeks?|wks?|days?)"
_TRAILING_EN = re.compile(
    r"\b(?:(?P<the>the)\s+)?(?P<word>last|past|previous|prior|trailing|recent)\s+"
    r"(?:(?P<n>\d{1,3}|" + "|".join(_WORD_NUMBERS) + r")\s+)?" + _UNIT + r"\b",
    re.IGNORECASE,
)
_TRAILING_KO = re.compile(r"(?:최근|지난)\s*(?P<n>\d{1,3})\s*(?P<unit>년|개월|달|주|일)")
_CALENDAR_KO = re.compile(r"작년|지난\s*해|지난해|지난\s*달|지난달|올해|금년")
_THIS_YEAR = re.compile(r"\b(?:this\s+year|year[\s-]+to[\s-]+date|ytd)\b", re.IGNORECASE)
_KO_UNITS = {"년": "year", "개월": "month", "달": "month", "주": "week", "일": "day"}


def _minus(today: _dt.date, n: int, unit: str) -> _dt.date:
    if unit == "day":
        return today - _dt.timedelta(days=n)
    if unit == "week":
        return today - _dt.timedelta(weeks=n)
    months = n * 12 if unit == "year" else n
    y, m = divmod(today.year * 12 + today.month - 1 - months, 12)
    return _dt.date(y, m + 1, min(today.day, calendar.monthrange(y, m + 1)[1]))


def _previous(today: _dt.date, unit: str) -> dict[str, str]:
    if unit == "year":
        return {"start": f"{today.year - 1}-01-01", "end": f"{today.year - 1}-12-31"}
    y, m = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    last = calendar.monthrange(y, m)[1]
    return {"start": f"{y:04d}-{m:02d}-01", "end": f"{y:04d}-{m:02d}-{last:02d}"}


def relative_dates(
    text: str, today: _dt.date | None = None
) -> tuple[dict[str, str], list[tuple[int, int]]]:
    """Date phrases relative to ``today`` (default: the current date); same return shape as
    :func:`extract_dates`.

    Example:
        >>> relative_dates("over the last 2 years", _dt.date(2026, 11, 26))[0]
        {'start': '2024-11-26'}
        >>> relative_dates("last year", _dt.date(2026, 11, 26))[0]
        {'start': '2025-01-01', 'end': '2025-12-31'}
    """
    today = today or _dt.date.today()
    m = _TRAILING_EN.search(text)
    if m:
        unit = m.group("unit").lower()
        unit = {"yr": "year", "mo": "month", "wk": "week"}.get(unit.rstrip("s"), unit.rstrip("s"))
        n_text = (m.group("n") or "").lower()
        calendar_word = m.group("word").lower() in ("last", "previous", "prior")
        if not n_text and not m.group("the") and calendar_word and unit in ("year", "month"):
            return _previous(today, unit), [m.span()]  # "last year": the calendar year before
        n = int(n_text) if n_text.isdigit() else _WORD_NUMBERS.get(n_text, 1)
        return {"start": _minus(today, n, unit).isoformat()}, [m.span()]
    m = _TRAILING_KO.search(text)
    if m:
        n, unit = int(m.group("n")), _KO_UNITS[m.group("unit")]
        return {"start": _minus(today, n, unit).isoformat()}, [m.span()]
    m = _CALENDAR_KO.search(text)
    if m:
        word = m.group(0).replace(" ", "")
        if word in ("올해", "금년"):
            return {"start": f"{today.year}-01-01"}, [m.span()]
        return _previous(today, "month" if word in ("지난달",) else "year"), [m.span()]
    m = _THIS_YEAR.search(text)
    if m:
        return {"start": f"{today.year}-01-01"}, [m.span()]
    return {}, []
