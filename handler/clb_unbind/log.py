"""Structured JSON logs: one line per decision, with the correlation fields, and never a secret.

    with correlation(request_id="...", dry_run=False):
        decision("unbound", instance_id="ins-...", load_balancer_id="lb-...")

prints `{"timestamp": ..., "level": "INFO", "decision": "unbound", "message": "unbound", "request_id": ...}`.
"""
from __future__ import annotations

import contextvars
import logging
import re
import sys
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Sequence

from pythonjsonlogger.json import JsonFormatter

from .scrub import REDACTED, remember, scrub

LOGGER_NAME = "clb_unbind"
_SECRET_KEY = re.compile(r"secret|password|signature|authorization|credential|sessiontoken|^token$", re.I)
_context: contextvars.ContextVar[Dict[str, Any]] = contextvars.ContextVar("clb_unbind_log_context", default={})

logger = logging.getLogger(LOGGER_NAME)


class _Redactor(logging.Filter):
    """Adds the correlation fields and scrubs every configured secret from every field of the record.

    Redaction by value catches a secret wherever it hides (an error message echoing a header, say);
    redaction by key catches fields whose name says they hold one.
    """

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s)

    def _scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            return scrub(value, self.secrets)
        if isinstance(value, dict):
            return {k: REDACTED if _SECRET_KEY.search(str(k)) else self._scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._scrub(v) for v in value]
        return value

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.msg = self._scrub(str(record.msg))
        if record.args:
            record.args = tuple(self._scrub(a) for a in record.args) if isinstance(record.args, tuple) else record.args
        for key in list(vars(record)):
            if key in _STANDARD_ATTRS:
                continue
            setattr(record, key, REDACTED if _SECRET_KEY.search(key) else self._scrub(getattr(record, key)))
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class _ScrubbingFormatter(JsonFormatter):
    """The filter sees the record before formatting; a traceback (`exc_info`, `stack_info`) is text only
    here, and an exception's message can hold a secret (a cloud error echoing a header, say)."""

    def __init__(self, *args: Any, secrets: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.secrets = tuple(s for s in secrets if s)

    def formatException(self, ei: Any) -> str:
        return scrub(super().formatException(ei), self.secrets)

    def formatStack(self, stack_info: str) -> str:
        return scrub(super().formatStack(stack_info), self.secrets)


def configure(level: str = "INFO", secrets: Sequence[str] = (), stream: Any = None) -> None:
    """(Re)configure the function's logger and the secrets `scrub` removes everywhere; called once per
    invocation so warm starts pick up new settings."""
    remember(secrets)
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        _ScrubbingFormatter(
            "%(levelname)s %(message)s",
            rename_fields={"levelname": "level"},
            timestamp=True,
            secrets=secrets,
        )
    )
    handler.addFilter(_Redactor(secrets))
    # The level applies where lines are written; the logger itself passes every decision on, so that
    # the run's metrics (metrics.py) count what a quieter log level does not print.
    handler.setLevel(level if level in logging._nameToLevel else "INFO")
    for old in list(logger.handlers):
        logger.removeHandler(old)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False


@contextmanager
def correlation(**fields: Any) -> Iterator[None]:
    """Fields added to every log line written inside the block (and in threads started with `run_in_context`)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def decision(name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log one decision of the function (resolved, planned, unbound, verified, completed, skipped, failed, ...)."""
    logger.log(level, name, extra={"decision": name, **{k: v for k, v in fields.items() if v is not None}})
