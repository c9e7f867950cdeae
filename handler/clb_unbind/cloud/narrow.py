"""One bad id must not fail its neighbours: a multi-id read refused for good is split and retried.

A permanent error (`errors.is_permanent`) on a read naming many ids may be about one of them (a
malformed or unauthorized id). `bisect` halves the ids and retries each half until every failing
read names one id: those ids carry the failure, every other id gets its answer. A retryable error
is raised as before (the whole read is retried later); so are credential errors (a bad signature,
secret id or token), which no id causes. `AuthFailure.UnauthorizedOperation` (ECM's CAM denial) is
narrowed like `UnauthorizedOperation`: a CAM policy can deny one resource. Cost: for f culprits among n ids about 2·f·log2(n) more reads, each within the
deadline like any call.
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


def bisect(items: Sequence[T], read: Callable[[List[T]], R]) -> Tuple[List[R], Dict[T, CloudFailure]]:
    """(answers of the reads that succeeded, the failure of each id that fails alone)."""
    part = list(items)
    if not part:
        return [], {}
    try:
        return [read(part)], {}
    except CloudError as exc:
        if not is_permanent(exc.code) or exc.code.startswith(NOT_NARROWED):
            raise
        if len(part) == 1:
            return [], {part[0]: exc.failure}
    middle = len(part) // 2
    left, left_failed = bisect(part[:middle], read)
    right, right_failed = bisect(part[middle:], read)
    return left + right, {**left_failed, **right_failed}
