"""The invocation's time budget: every wait and retry stops before SCF would kill the function."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional


@dataclass
class Deadline:
    hard_expires_at: float
    """When SCF kills the invocation."""
    margin: float = 0.0
    """Kept back from the cloud work for queueing what is left and answering."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)

    @classmethod
    def from_context(cls, context: Optional[Mapping[str, Any]], safety_margin: float, default_seconds: float = 60.0) -> "Deadline":
        """SCF's `time_limit_in_ms`, with a margin (at most a fifth of it) for finishing up."""
        limit_ms = None
        if isinstance(context, Mapping):
            limit_ms = context.get("time_limit_in_ms")
        try:
            seconds = float(limit_ms) / 1000.0 if limit_ms is not None else default_seconds
        except (TypeError, ValueError):
            seconds = default_seconds
        return cls(time.monotonic() + max(seconds, 0.0), min(safety_margin, seconds * 0.2))

    def hard_remaining(self) -> float:
        return max(self.hard_expires_at - self.clock(), 0.0)

    def remaining(self, reserve: float = 0.0) -> float:
        """Time left for cloud work: keeps back the margin, or `reserve` if that is larger."""
        return max(self.hard_remaining() - max(self.margin, reserve), 0.0)

    def expired(self) -> bool:
        return self.remaining() <= 0.0
