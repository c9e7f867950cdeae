"""One bad id must not fail its neighbours: a multi-id read refused for good is split and retried.

A permanent error (`errors.is_permanent`) on a read naming many ids may be about one of them (a
malformed or unauthorized id). `bisect` halves the ids and retries each half until every failing
read names one id: those ids carry the failure, every other id gets its answer. For f culprits among
n ids that is about 2·f·log2(n) more reads, each within the deadline like any call, and never more
than `MAX_EXTRA_READS`.

A retryable error is raised as before (the whole read is retried later); so are credential errors
(a bad signature, secret id or token), which no id causes. `AuthFailure.UnauthorizedOperation`
(ECM's CAM denial) is narrowed like `UnauthorizedOperation`: a CAM policy can deny one resource.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Sequence, Tuple, TypeVar

from ..model import CloudFailure
from .errors import CloudError, is_permanent

T = TypeVar("T")
R = TypeVar("R")

# The common "公共错误码" of credentials and signatures.
NOT_NARROWED = (
    "AuthFailure.InvalidAuthorization",
    "AuthFailure.InvalidSecretId",
    "AuthFailure.MFAFailure",
    "AuthFailure.SecretIdNotFound",
    "AuthFailure.SignatureExpire",
    "AuthFailure.SignatureFailure",
    "AuthFailure.TokenFailure",
)

MAX_EXTRA_READS = 32
"""Reads one narrowing may add: two culprits among 100 ids need about 28. An error that is not about
any id (the action itself denied) would otherwise cost 2n - 1 reads; past the cap the ids still in
doubt share the failure."""


def bisect(items: Sequence[T], read: Callable[[List[T]], R], budget: int = MAX_EXTRA_READS) -> Tuple[List[R], Dict[T, CloudFailure]]:
    """(answers of the reads that succeeded, the failure of each id that fails alone)."""
    return _bisect(list(items), read, [budget])


def _bisect(part: List[T], read: Callable[[List[T]], R], left: List[int]) -> Tuple[List[R], Dict[T, CloudFailure]]:
    if not part:
        return [], {}
    try:
        return [read(part)], {}
    except CloudError as exc:
        if not is_permanent(exc.code) or exc.code.startswith(NOT_NARROWED):
            raise
        if len(part) == 1 or left[0] < 2:
            return [], {item: exc.failure for item in part}
    left[0] -= 2
    middle = len(part) // 2
    answers, failed = _bisect(part[:middle], read, left)
    more, more_failed = _bisect(part[middle:], read, left)
    return answers + more, {**failed, **more_failed}
