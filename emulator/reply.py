"""What the HTTP layer sends for one request: shared by the pipelines and the server, owned by neither."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reply:
    """``drop`` closes the connection without a byte (a lost reply); ``delay`` is slept before sending."""

    status: int
    body: bytes = b""
    drop: bool = False
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
