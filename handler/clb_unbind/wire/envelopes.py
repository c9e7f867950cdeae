"""The project's own queue messages: the retry envelope and the dead-letter envelope.

Both are JSON objects sent with TDMQ-for-CMQ `SendCmqMsg` (retry: to `CLB_UNBIND_RETRY_QUEUE` with a
delay; dead letter: to `CLB_UNBIND_DEAD_LETTER_QUEUE`). The retry queue is read by the timer's consumer
run (it defaults to `CLB_UNBIND_QUEUE`), so a retry envelope comes back as a queue message's body; a dead-letter envelope comes back only
when an operator redrives it (sends it to the retry queue or invokes the function with it).

Retry (`kind` = ``clb-unbind/retry``)::

    {"kind": "clb-unbind/retry", "version": 1, "attempt": 2, "firstSeen": "2024-05-01T10:00:00Z",
     "dryRun": false,
     "notices": [{"instanceId": "ins-web00001", "reason": "INSTANCE_TERMINATING", "source": "cmq",
                  "recordId": "msg-1", "lifecycle": {"hookId": "ash-hook0001", "token": "3080e1c9-...",
                                                      "groupId": "asg-group001", "hookName": "drain"}}],
     "lastErrors": [{"code": "FailedOperation.ResourceInOperating", "message": "...",
                     "action": "BatchDeregisterTargets", "requestId": "..."}],
     "requestIds": ["..."], "original": "<the first payload, as received>"}

Dead letter (`kind` = ``clb-unbind/dead-letter``): the same plus ``reason`` (machine-readable: the
values finish.py writes; any `lower_snake_case` word is accepted, so a new reason needs no reader change) and ``detail`` (human-readable), with ``errors`` in place of ``lastErrors``;
``notices`` may be empty (a malformed payload has none: its ``original`` is all there is).

Signed (signature.py): the function adds ``"signature"``, HMAC-SHA256 keyed by
`CLB_UNBIND_ENVELOPE_SECRET` over the envelope's canonical JSON without it. Read back with a valid
signature, its notices are restored as they were (an operator's notice stays an operator's word; a
lifecycle notice is checked with Auto Scaling again, as on every attempt). Without one (or with no
secret configured), its lifecycle notices are fresh claims and every other notice is refused
(``unsigned_envelope``).

Parsing (payloads.py): a retry envelope's notices come back with ``attempt`` = the envelope's
``attempt`` (the writer stores the number of the attempt the message asks for) and source ``retry``;
a redriven dead letter's notices come back with attempt 1 and source ``redrive``. Either way
``dry_run`` = the setting OR the envelope's ``dryRun``.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any, Annotated, List, Literal, Optional, Sequence

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator
from pydantic.alias_generators import to_camel

from ..model import ActivityRef, CloudFailure, LifecycleAction, Notice, is_instance_id
from ..scrub import scrub
from . import signature
from .drain_state import DrainState

RETRY_KIND = "clb-unbind/retry"
DEAD_LETTER_KIND = "clb-unbind/dead-letter"
ENVELOPE_VERSION = 1
MAX_MESSAGE_BYTES = 1024 * 1024
"""A TDMQ-for-CMQ message is at most 1 MiB (`MaxMsgSize`, docs/cloud-facts.md#cmq-queue-semantics): every envelope fits in it."""
DIGEST_PREFIX_CHARS = 1024
NOTICE_ORIGINAL_CHARS = 16 * 1024
"""The longest original carried per notice (a lifecycle notification is well under 1 KiB)."""
SIGNATURE_BYTES = len(',"signature":""') + 64

def utc_now_iso() -> str:
    """`firstSeen` for a new envelope, e.g. ``2024-05-01T10:00:00Z``."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    """ISO-8601 as this project writes it; accepts a trailing `Z` (Python 3.10 `fromisoformat` does not)."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


def notified_at(value: Any) -> Optional[str]:
    """A notification's `Time` as this project writes times, kept as its notice's `first_seen` so that
    retries carry it and hook latency counts from it (docs/metrics.md); None when it is not a time."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_iso(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _iso(value: str) -> str:
    try:
        parse_iso(value)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an ISO-8601 time (e.g. 2024-05-01T10:00:00Z)") from None
    return value


def _version(value: int) -> int:
    if value != ENVELOPE_VERSION:
        raise ValueError(f"version {value} is not supported (this function reads version {ENVELOPE_VERSION})")
    return value


def _instance_id(value: str) -> str:
    if not is_instance_id(value):
        raise ValueError(f"{scrub(value)[:40]!r} is not a CVM (ins-xxxxxxxx) or ECM (ein-xxxxxxxx) instance id")
    return value


InstanceIdStr = Annotated[str, AfterValidator(_instance_id)]
IsoTime = Annotated[str, AfterValidator(_iso)]
Version = Annotated[int, AfterValidator(_version)]


class _Model(BaseModel):
    """camelCase on the wire, snake_case in Python; strict types; unknown fields ignored."""

    model_config = ConfigDict(
        extra="ignore",
        strict=True,
        frozen=True,
        defer_build=True,
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
    )


class EnvelopeLifecycle(_Model):
    hook_id: str = Field(min_length=1)
    token: Optional[str] = None
    group_id: Optional[str] = None
    hook_name: Optional[str] = None

    @classmethod
    def from_action(cls, action: LifecycleAction) -> "EnvelopeLifecycle":
        return cls(hook_id=action.hook_id, token=action.token, group_id=action.group_id, hook_name=action.hook_name)

    def to_action(self) -> LifecycleAction:
        return LifecycleAction(hook_id=self.hook_id, token=self.token, group_id=self.group_id, hook_name=self.hook_name)


class EnvelopeNotice(_Model):
    instance_id: InstanceIdStr
    reason: str
    source: str
    record_id: str
    lifecycle: Optional[EnvelopeLifecycle] = None
    claim: bool = False
    """A scale-in claim stays one across retries: Auto Scaling is asked again on every attempt."""
    group_id: Optional[str] = None
    """The scaling group a scale-in claim names (a lifecycle notice's is in `lifecycle`)."""
    activity_id: Optional[str] = None
    """The scaling activity the claim names: checked again with Auto Scaling on every attempt."""
    refusal: Optional[str] = None
    """Why the notice was refused (`unsigned_envelope`): a dead letter the function signs must not turn a
    refused notice into a trusted one when it is redriven."""
    drain: Optional[DrainState] = Field(default=None, exclude_if=lambda v: v is None)
    """An adaptive drain under way (wire/drain_state.py); read back only from a signed envelope."""
    first_seen: Optional[IsoTime] = Field(default=None, exclude_if=lambda v: v is None)
    """This notice's own `firstSeen`, when it differs from the envelope's (an envelope carrying the
    drains of several instances, each first seen at its own time); none: the envelope's."""
    original: Optional[str] = Field(default=None, exclude_if=lambda v: v is None)
    """This notice's own original payload, when the envelope carries several that differ (at most
    `NOTICE_ORIGINAL_CHARS`; a longer one is left out); none: the envelope's."""

    @classmethod
    def from_notice(cls, notice: Notice) -> "EnvelopeNotice":
        return cls(
            instance_id=notice.instance_id,
            reason=notice.reason,
            source=notice.source,
            record_id=notice.record_id,
            lifecycle=EnvelopeLifecycle.from_action(notice.lifecycle) if notice.lifecycle else None,
            claim=notice.claim,
            group_id=notice.group_id,
            activity_id=notice.activity_id,
            refusal=notice.refusal,
            drain=notice.drain,
        )

    def to_notice(
        self,
        *,
        source: str,
        record_id: str,
        attempt: int,
        dry_run: bool,
        first_seen: Optional[str] = None,
        prior_request_ids: Sequence[str] = (),
        original: Optional[str] = None,
        refusal: Optional[str] = None,
        drain: Optional[DrainState] = None,
    ) -> Notice:
        return Notice(
            instance_id=self.instance_id,
            source=source,
            reason=self.reason,
            record_id=record_id,
            lifecycle=self.lifecycle.to_action() if self.lifecycle else None,
            claim=self.claim,
            group_id=self.group_id,
            activity_id=self.activity_id,
            attempt=attempt,
            dry_run=dry_run,
            first_seen=self.first_seen or first_seen,
            prior_request_ids=tuple(prior_request_ids),
            original=self.original if self.original is not None else original,
            refusal=refusal,
            drain=drain,
        )


class OriginalDigest(_Model):
    """What is kept of an original too big to carry whole: enough to find and recognise it."""

    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    prefix: str

    @classmethod
    def of(cls, text: str) -> "OriginalDigest":
        raw = text.encode("utf-8", "surrogatepass")
        return cls(bytes=len(raw), sha256=hashlib.sha256(raw).hexdigest(), prefix=text[:DIGEST_PREFIX_CHARS])


class EnvelopeRefusal(_Model):
    """One refused record of an event, inside the event's one `refused_input` dead letter."""

    record_id: str
    source: str
    reason: str
    original: Optional[str] = None
    original_digest: Optional[OriginalDigest] = None

    def json_bytes(self) -> int:
        return len(self.model_dump_json(by_alias=True).encode("utf-8", "surrogatepass"))

    def digested(self) -> "EnvelopeRefusal":
        if self.original is None:
            return self
        return self.model_copy(update={"original": None, "original_digest": OriginalDigest.of(self.original)})


class EnvelopeActivity(_Model):
    """A SCALE_IN activity whose instances could not be read yet (DescribeAutoScalingActivities failed)."""

    activity_id: str = Field(pattern=r"^asa-[a-z0-9]{8}$")
    group_id: Optional[str] = None

    @classmethod
    def from_ref(cls, ref: ActivityRef) -> "EnvelopeActivity":
        return cls(activity_id=ref.activity_id, group_id=ref.group_id)

    def to_ref(self, *, source: str, record_id: str, attempt: int, dry_run: bool, first_seen: Optional[str], original: Optional[str]) -> ActivityRef:
        return ActivityRef(self.activity_id, self.group_id, record_id, source, dry_run, attempt, first_seen, original)


class EnvelopeError(_Model):
    code: str
    message: str
    action: str
    request_id: Optional[str] = None

    @classmethod
    def from_failure(cls, failure: CloudFailure) -> "EnvelopeError":
        return cls(
            code=failure.code,
            message=failure.message,
            action=failure.action,
            request_id=failure.request_id,
        )


class _Envelope(_Model):
    version: Version = ENVELOPE_VERSION
    attempt: int = Field(ge=1, le=10_000)
    first_seen: IsoTime
    dry_run: bool = False
    notices: List[EnvelopeNotice] = Field(default_factory=list)
    activities: List[EnvelopeActivity] = Field(default_factory=list)
    request_ids: List[str] = Field(default_factory=list)
    original: Optional[str] = None
    original_digest: Optional[OriginalDigest] = None
    """Set instead of `original` when the original would not fit in one queue message."""

    @field_validator("notices", mode="before")
    @classmethod
    def _not_too_many(cls, value: Any, info: ValidationInfo) -> Any:
        limit = (info.context or {}).get("max_instances")
        if limit is not None and isinstance(value, list) and len(value) > limit:
            raise ValueError(f"at most {limit} notices per message, got {len(value)}")
        return value

    def json_bytes(self) -> int:
        return len(self.model_dump_json(by_alias=True).encode("utf-8", "surrogatepass"))

    def fitted(self, limit: int = MAX_MESSAGE_BYTES) -> "_Envelope":
        """This envelope, with its original replaced by a digest when the whole would not fit in `limit`
        bytes (a 600 KB body of quotes doubles when escaped into JSON)."""
        if self.original is None or self.json_bytes() + SIGNATURE_BYTES <= limit:
            return self
        return self.model_copy(update={"original": None, "original_digest": OriginalDigest.of(self.original)})

    def to_json(self, secret: Optional[str] = None) -> str:
        """Compact JSON for `SendCmqMsg.MsgContent`, every secret scrubbed (the original payload and the
        errors may hold one: a key pasted into a message, an error page echoing a header), signed with
        `secret` (`CLB_UNBIND_ENVELOPE_SECRET`) when there is one (signature.py)."""
        data = scrub(self.model_dump(mode="json", by_alias=True))
        if secret:
            data[signature.FIELD] = signature.sign(data, secret)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str, *, max_instances: Optional[int] = None):
        """Validate an envelope from its JSON text; raises `pydantic.ValidationError`/`ValueError`."""
        data = json.loads(text)
        return cls.model_validate(data, context={"max_instances": max_instances})


class RetryEnvelope(_Envelope):
    """Unfinished work, sent to the retry queue with a delay."""

    kind: Literal["clb-unbind/retry"] = RETRY_KIND
    last_errors: List[EnvelopeError] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names_some_work(self) -> "RetryEnvelope":
        if not self.notices and not self.activities:
            raise ValueError("a retry names at least one instance or scaling activity")
        return self

    @classmethod
    def from_notices(
        cls,
        notices: Sequence[Notice],
        *,
        attempt: int,
        first_seen: Optional[str] = None,
        dry_run: bool = False,
        last_errors: Sequence[CloudFailure] = (),
        request_ids: Sequence[str] = (),
        original: Optional[str] = None,
        activities: Sequence[ActivityRef] = (),
    ) -> "RetryEnvelope":
        """Build the envelope for `attempt` (the number of the attempt the message asks for)."""
        return cls(
            attempt=attempt,
            first_seen=first_seen or utc_now_iso(),
            dry_run=dry_run,
            notices=[EnvelopeNotice.from_notice(n) for n in notices],
            activities=[EnvelopeActivity.from_ref(a) for a in activities],
            last_errors=[EnvelopeError.from_failure(f) for f in last_errors],
            request_ids=list(request_ids),
            original=original,
        )


class DeadLetterEnvelope(_Envelope):
    """Work that is out of attempts or can never succeed, with the reason and the original payload."""

    kind: Literal["clb-unbind/dead-letter"] = DEAD_LETTER_KIND
    reason: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    detail: str = ""
    errors: List[EnvelopeError] = Field(default_factory=list)
    refused: List[EnvelopeRefusal] = Field(default_factory=list)
    """`refused_input` only: the event's refused records, one dead letter for many (each within the size cap)."""

    @classmethod
    def from_notices(
        cls,
        notices: Sequence[Notice],
        *,
        reason: str,
        detail: str = "",
        attempt: int = 1,
        first_seen: Optional[str] = None,
        dry_run: bool = False,
        errors: Sequence[CloudFailure] = (),
        request_ids: Sequence[str] = (),
        original: Optional[str] = None,
        activities: Sequence[ActivityRef] = (),
    ) -> "DeadLetterEnvelope":
        return cls(
            reason=reason,
            detail=detail,
            attempt=attempt,
            first_seen=first_seen or utc_now_iso(),
            dry_run=dry_run,
            notices=[EnvelopeNotice.from_notice(n) for n in notices],
            activities=[EnvelopeActivity.from_ref(a) for a in activities],
            errors=[EnvelopeError.from_failure(f) for f in errors],
            request_ids=list(request_ids),
            original=original,
        )


__all__ = [
    "DEAD_LETTER_KIND",
    "DeadLetterEnvelope",
    "ENVELOPE_VERSION",
    "EnvelopeActivity",
    "EnvelopeError",
    "EnvelopeLifecycle",
    "EnvelopeNotice",
    "EnvelopeRefusal",
    "MAX_MESSAGE_BYTES",
    "OriginalDigest",
    "RETRY_KIND",
    "RetryEnvelope",
    "parse_iso",
    "utc_now_iso",
]
