"""Secrets out of everything that leaves the process: log lines, HTTP answers, queue messages, exceptions.

One registry, filled once per invocation (`log.configure` → `remember`), and one function, applied at
each boundary: the log filter and formatter, the API Gateway answer, the retry and dead-letter
envelopes, cloud error messages as they enter the function (`CloudSession.call`) and `UnfinishedWork`.
Redaction is by value, so a secret is caught wherever it hides: a cloud error echoing a request
header, an id field into which someone pasted a key.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional, Tuple

REDACTED = "***"

_secrets: Tuple[str, ...] = ()


def remember(secrets: Iterable[Optional[str]]) -> None:
    """The values to scrub from now on (the invocation's credentials and API secret)."""
    global _secrets
    # Longest first, so a secret that contains another is replaced whole.
    _secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))


def scrub(value: Any, secrets: Optional[Iterable[str]] = None) -> Any:
    """`value` with every secret replaced by `***`, in strings, bytes, and the values of dicts and lists."""
    known = tuple(s for s in secrets if s) if secrets is not None else _secrets
    if not known:
        return value
    return _scrub(value, known)


def _scrub(value: Any, secrets: Tuple[str, ...]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, bytes):
        return _scrub(value.decode("utf-8", "replace"), secrets)
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, secrets) for v in value]
    return value
