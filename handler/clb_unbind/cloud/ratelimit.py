"""A token bucket per API action, shared by the threads of one process.

The API allows 20 requests a second per action (tencent-facts §5); staying under it costs less than
sleeping after `RequestLimitExceeded`.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Dict, Tuple


class TokenBucket:
    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.clock = clock
        self.updated = clock()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            self.tokens -= 1.0
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class RateLimiter:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: Dict[Tuple[str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def wait_time(self, service: str, action: str) -> float:
        with self._lock:
            bucket = self._buckets.get((service, action))
            if bucket is None or bucket.rate != self.rate:
                bucket = self._buckets[(service, action)] = TokenBucket(self.rate, burst=max(1.0, self.rate / 2))
        return bucket.reserve()
