"""SCF entry point (`handler: index.main_handler`, code root `handler/`)."""
from __future__ import annotations

from typing import Any, Dict

from clb_unbind.app import handle


def main_handler(event: Dict[str, Any], context: Dict[str, Any]) -> Dict[str, Any]:
    return handle(event, context)
