"""CMQ data-plane answer codes (doc 1496/127322 and 431/5841 output tables; tencentyun/cmq-python-sdk
``cmq_exception.py``; docs/cloud-facts.md#cmq-answer-codes). Every answer is HTTP 200 with JSON ``{"code", "message", "requestId"}``."""
from __future__ import annotations

OK = 0
BAD_PARAMETER = 4000
AUTH_FAILURE = 4100
QPS_LIMIT = 4420
INVALID_RECEIPT_HANDLE = 4430
NO_SUCH_QUEUE = 4440
INTERNAL_ERROR = 6000
BATCH_DELETE_PARTLY_FAILED = 6010
BATCH_DELETE_ALL_FAILED = 6020
NO_MESSAGE = 7000

CODES = frozenset({OK, BAD_PARAMETER, AUTH_FAILURE, QPS_LIMIT, INVALID_RECEIPT_HANDLE, NO_SUCH_QUEUE,
                   INTERNAL_ERROR, BATCH_DELETE_PARTLY_FAILED, BATCH_DELETE_ALL_FAILED, NO_MESSAGE})


class CmqError(Exception):
    """A CMQ answer with a non-zero ``code``; ``extra`` adds fields (``errorList``) to the answer."""

    def __init__(self, code: int, message: str, extra: dict | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.extra = extra or {}
