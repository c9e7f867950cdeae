"""Which cloud errors are worth another try, and which can never succeed."""
from __future__ import annotations

from ..model import CloudFailure


class CloudError(Exception):
    """A failed cloud call, after the in-process retries allowed by the deadline."""

    def __init__(self, failure: CloudFailure) -> None:
        super().__init__(f"{failure.action}: {failure.code}: {failure.message}")
        self.failure = failure

    @property
    def code(self) -> str:
        return self.failure.code


BUSY_CODES = (
    "FailedOperation.ResourceInOperating",  # CLB: the load balancer is running another task (docs/cloud-facts.md#clb-error-codes)
    "FailedOperation.OperationConflict",  # ECM: another operation is running on the load balancer
)

NOT_SENT = "MessageNotSent"  # the function's own: SendCmqMsg answered Result false ("true表示发送成功")
# The function's own: a reply member the work needs came back null, which Tencent's API spec allows for it
# (api.json `value_allowed_null`, the SDK's "此字段可能返回 null，表示取不到有效值"): nothing is known, so try later.
NULL_IN_REPLY = "ReplyMemberNull"

RETRYABLE_PREFIXES = BUSY_CODES + (
    NOT_SENT,
    NULL_IN_REPLY,
    "RequestLimitExceeded",  # more than 20 requests a second to one action (docs/cloud-facts.md#clb-rate-limit)
    "FailedOperation.RateLimitExceeded",
    "FailedOperation.RequestTimeout",
    "InternalError",  # bk-bcs treats it as "clb is dealing another action" (docs/cloud-facts.md#clb-error-codes)
    "ClientNetworkError",  # the SDK's transport errors; a write may have been applied: callers re-read state
    "ServerNetworkError",
    "FailedOperation.InternalOperationFailure",
)

PERMANENT_PREFIXES = (
    "InstanceNotFound",  # the function's own codes for what the cloud says does not exist
    "ActivityNotFound",
    "NotLeaving",  # Auto Scaling contradicts a lifecycle or scale-in claim (trust.py)
    "AuthFailure",
    "UnauthorizedOperation",
    "InvalidInstanceId",
    "ResourceNotFound",
    "InvalidParameter",
    "UnknownParameter",
    "MissingParameter",
)


def null_in_reply(action: str, member: str, request_id: str | None = None) -> CloudFailure:
    return CloudFailure(NULL_IN_REPLY, f"{member} came back null (the API may answer null there): unknown, retried later",
                        action, request_id)


def is_retryable(code: str) -> bool:
    return code.startswith(RETRYABLE_PREFIXES)


def is_permanent(code: str) -> bool:
    """Errors that another attempt cannot fix: the work goes to the dead-letter queue at once."""
    return code.startswith(PERMANENT_PREFIXES) and not is_retryable(code)
