"""Typo tolerance: optimal-string-alignment edit distance (a swap of neighbours costs 1)."""

from __future__ import annotations

from functools import lru_cache

__all__ = ["close_matches", "distance"]


@lru_cache(maxsize=4096)
def distance(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) turning ``a`` into ``b``.

    Example:
        >>> distance("comapre", "compare")
        1
    """
    if a == b:
        return 0
    if abs(len(a) - len(b)) > 3:
        return 4
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def close_matches(word: str, candidates, n: int = 3, max_distance: int = 2) -> list[str]:
    """Up to ``n`` candidates within ``max_distance`` edits of ``word``, closest first.

    Example:
        >>> close_matches("strategy_11", ["strategy_1", "strategy_2", "sma_cross"])
        ['strategy_1', 'strategy_2']
    """
    scored = sorted((distance(word.lower(), c.lower()), c) for c in candidates)
    return [c for d, c in scored if d <= max_distance][:n]
