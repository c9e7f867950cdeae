"""One line of `check`'s report: an invariant, whether it holds, what was seen and how to fix it."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Dict


@dataclass
class Finding:
    invariant: str
    ok: bool
    detail: str
    fix: str = ""

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)
