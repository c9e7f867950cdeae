"""The function's own settings (handler `clb_unbind/config.py`), read by the operator tool.

One source of truth: the defaults `setup` derives its numbers from, and the way `check` reads a
deployed function's environment, are the running function's own, so the two cannot drift apart.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict

HANDLER_ROOT = Path(__file__).resolve().parent.parent / "handler"


def function_settings(env: Dict[str, str]) -> Any:
    """The function's Settings for an environment (raises its SettingsError)."""
    if str(HANDLER_ROOT) not in sys.path:
        sys.path.insert(0, str(HANDLER_ROOT))
    from clb_unbind.config import Settings

    return Settings.from_env(env)


DEFAULTS = function_settings({})
"""What the function does with none of its variables set."""
