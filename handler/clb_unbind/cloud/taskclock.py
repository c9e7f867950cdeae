"""How long this process has seen a service's tasks take, so polls land when a task is likely done.

Polling a task that needs 0.5 s every 50 ms costs ten DescribeTaskStatus calls, and each counts
against the 20-a-second limit that every other invocation shares. Waiting about as long as recent
tasks took makes one poll the usual case; a busy load balancer is retried on the same clock.
"""
from __future__ import annotations

import statistics
import threading
from collections import deque
from typing import Deque, Dict

_WINDOW = 16


class TaskClock:
    def __init__(self, default_seconds: float) -> None:
        self.default_seconds = default_seconds
        self._samples: Deque[float] = deque(maxlen=_WINDOW)
        self._lock = threading.Lock()

    def expected(self) -> float:
        with self._lock:
            return statistics.median(self._samples) if self._samples else self.default_seconds

    def record(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(max(seconds, 0.0))


_clocks: Dict[str, TaskClock] = {}
_clocks_lock = threading.Lock()


def clock_for(service: str, default_seconds: float) -> TaskClock:
    """One clock per service per process: warm invocations keep what earlier ones learned."""
    with _clocks_lock:
        clock = _clocks.get(service)
        if clock is None or clock.default_seconds != default_seconds:
            clock = _clocks[service] = TaskClock(default_seconds)
        return clock
