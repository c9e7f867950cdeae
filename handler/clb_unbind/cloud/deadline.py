"""The invocation's time budget: every wait and retry stops before SCF would kill the function."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional


@dataclass
class Deadline:
    expires_at: float
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def from_context(cls, context: Optional[Mapping[str, Any]], safety_margin: float, default_seconds: float = 60.0) -> "Deadline":
        """SCF's `time_limit_in_ms`, less a margin for finishing up (queueing what is left, answering)."""
        limit_ms = None
        if isinstance(context, Mapping):
            limit_ms = context.get("time_limit_in_ms")
        try:
            seconds = float(limit_ms) / 1000.0 if limit_ms is not None else default_seconds
        except (TypeError, ValueError):
            seconds = default_seconds
        margin = min(safety_margin, seconds * 0.2)
        return cls(time.monotonic() + max(seconds - margin, 0.0))

    def remaining(self) -> float:
        return max(self.expires_at - self.clock(), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0
