"""The function's own settings (handler `clb_unbind/config.py`), read by the operator tool.

One source of truth: the defaults `setup` derives its numbers from, and the way `check` reads a
deployed function's environment, are the running function's own, so the two cannot drift apart.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

HANDLER_ROOT = Path(__file__).resolve().parent.parent / "handler"


def handler_module(name: str) -> Any:
    """A module of the function's package (``clb_unbind.<name>``): its settings, credential search and scrubber."""
    if str(HANDLER_ROOT) not in sys.path:
        sys.path.insert(0, str(HANDLER_ROOT))
    return importlib.import_module(f"clb_unbind.{name}")


def function_settings(env: Dict[str, str]) -> Any:
    """The function's Settings for an environment (raises its SettingsError)."""
    return handler_module("config").Settings.from_env(env)


def secrets_of(env: Dict[str, str]) -> Tuple[str, ...]:
    """Every secret value an environment holds, as the function's own settings name them (its
    ``Settings.secrets``); for an environment the function would refuse, every value of a variable
    whose name says SECRET or TOKEN."""
    try:
        return tuple(function_settings(env).secrets)
    except ValueError:
        return tuple(v for k, v in env.items() if v and ("SECRET" in k or "TOKEN" in k))


DEFAULTS = function_settings({})
"""What the function does with none of its variables set."""
