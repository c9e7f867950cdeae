"""A sliding one-second window per API action, shared by the threads of one process.

The API refuses the 21st request to one action within a second (docs/cloud-facts.md#clb-rate-limit); keeping every
window at or under the limit costs less than sleeping after `RequestLimitExceeded`. A token bucket
would let a burst and a full second's refill land in one window, so the window is kept exactly.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from typing import Callable, Deque, Dict, Tuple

WINDOW_SECONDS = 1.0
ARRIVAL_SLACK_SECONDS = 0.05
"""A slot is booked before its request is built and sent, and the API counts arrivals: a request that
leaves late and one that leaves on time a second later can land in one window. 1 ms of slack let
`RequestLimitExceeded` through in 2 of 7 bench runs of workload (f); 50 ms costs under 5 % of the rate."""


class SlidingWindow:
    def __init__(self, limit: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = max(1, limit)
        self.clock = clock
        self.sent: Deque[float] = deque()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next slot; return how long to wait before sending in it."""
        with self.lock:
            now = self.clock()
            while self.sent and self.sent[0] <= now - WINDOW_SECONDS:
                self.sent.popleft()
            start = now
            if len(self.sent) >= self.limit:
                # The slot frees when the request `limit` places back leaves the window.
                start = self.sent[-self.limit] + WINDOW_SECONDS + ARRIVAL_SLACK_SECONDS
            self.sent.append(start)
            return max(0.0, start - now)


class RateLimiter:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._windows: Dict[Tuple[str, str], SlidingWindow] = {}
        self._lock = threading.Lock()

    def wait_time(self, service: str, action: str) -> float:
        with self._lock:
            window = self._windows.get((service, action))
            if window is None:
                window = self._windows[(service, action)] = SlidingWindow(int(self.rate))
        return window.reserve()
