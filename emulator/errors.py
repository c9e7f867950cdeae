"""API errors as the Tencent Cloud API 3.0 returns them.

Every failure the emulator reports is an :class:`ApiError`; the server turns it into
``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`` with HTTP 200, the shape the SDK's
``AbstractClient._check_error`` looks for.

Common codes below come from the "公共错误码" (common error codes) table that every product's
API documentation repeats (e.g. cloud.tencent.com/document/product/1778/111040): ``InvalidAction``,
``NoSuchVersion``, ``NoSuchProduct``, ``UnknownParameter``, ``MissingParameter``,
``AuthFailure.*``, ``RequestLimitExceeded``, ``UnsupportedRegion``, ``InternalError``.
Product codes come from each SDK's ``errorcodes.py`` (cited where used).
"""
from __future__ import annotations


class ApiError(Exception):
    """A Tencent Cloud API error: ``code`` is the wire ``Error.Code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# Common error codes (public "公共错误码" table).
AUTH_INVALID_AUTHORIZATION = "AuthFailure.InvalidAuthorization"
AUTH_SECRET_ID_NOT_FOUND = "AuthFailure.SecretIdNotFound"
AUTH_SIGNATURE_EXPIRE = "AuthFailure.SignatureExpire"
AUTH_SIGNATURE_FAILURE = "AuthFailure.SignatureFailure"
AUTH_TOKEN_FAILURE = "AuthFailure.TokenFailure"
INTERNAL_ERROR = "InternalError"
INVALID_ACTION = "InvalidAction"
INVALID_PARAMETER = "InvalidParameter"
INVALID_PARAMETER_VALUE = "InvalidParameterValue"
MISSING_PARAMETER = "MissingParameter"
NO_SUCH_PRODUCT = "NoSuchProduct"
NO_SUCH_VERSION = "NoSuchVersion"
REQUEST_LIMIT_EXCEEDED = "RequestLimitExceeded"
UNKNOWN_PARAMETER = "UnknownParameter"
UNSUPPORTED_OPERATION = "UnsupportedOperation"
UNSUPPORTED_REGION = "UnsupportedRegion"
LIMIT_EXCEEDED = "LimitExceeded"
RESOURCE_NOT_FOUND = "ResourceNotFound"
FAILED_OPERATION = "FailedOperation"


def missing(name: str) -> ApiError:
    """The wording real services use for an absent required parameter."""
    return ApiError(MISSING_PARAMETER, f"The request is missing a required parameter `{name}`.")


def internal_error() -> ApiError:
    return ApiError(INTERNAL_ERROR, "An internal error has occurred. Retry your request, but if the problem persists, contact us.")
