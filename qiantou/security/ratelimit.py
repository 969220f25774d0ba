"""Fixed-window rate limits in Django's cache (``"COUNT/SECONDS"`` settings).

The default cache is per process (LocMem); with several worker processes each counts its own share,
so the effective limit is at most COUNT × workers — README "Secure deployment" says so.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def parse_rate(rate: str) -> tuple[int, int]:
    """``"30/60"`` → (30, 60); ``""`` or ``"0/…"`` turns the limit off (count 0)."""
    if not rate:
        return 0, 60
    count, _, seconds = rate.partition("/")
    return int(count), int(seconds or 60)


def hit(scope: str, key: str, rate: str) -> int | None:
    """Count one request for ``scope``/``key``; returns seconds to wait when over the limit, else None."""
    limit, window = parse_rate(rate)
    if limit <= 0:
        return None
    now = int(time.time())
    start = now - now % window
    cache_key = f"qiantou-rl:{scope}:{key}:{start}"
    if cache.add(cache_key, 1, timeout=window + 1):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.add(cache_key, 1, timeout=window + 1)
            count = 1
    if count > limit:
        return max(1, start + window - now)
    return None


def clear() -> None:
    """Forget every counter (tests)."""
    cache.clear()
