"""What a queue message body (CMQ/CKafka `msgBody`), an EventBridge `data` or a direct call can hold.

* Auto Scaling lifecycle-hook notification (docs/cloud-facts.md#as-lifecycle-hook-notification, text of the
  `CreateLifecycleHook` API doc): ``INSTANCE_TERMINATING`` → one notice with its lifecycle action;
  ``INSTANCE_LAUNCHING`` (or any other transition) → ignored.
* Auto Scaling scaling-activity notification (docs/cloud-facts.md#as-scaling-activity-notification, `CreateNotificationConfiguration`):
  ``ActivityType`` ``SCALE_IN`` → an `ActivityRef` (the instance ids are read later with
  DescribeAutoScalingActivities); other activity types → ignored. The body names no instance.
* Any other message whose ``Service`` is ``Tencent Cloud Auto Scaling`` → ignored. Tencent documents
  no lifecycle test notification (AWS's ``autoscaling:TEST_NOTIFICATION`` has no Tencent
  counterpart that I could find), so this is the catch-all for one.
* The direct-invocation shape ``{"instanceIds": [...], "dryRun": bool, "reason": str}``: an operator's
  word, so only from a direct invocation (or API Gateway, apigw.py). Inside a queue message, a CKafka or
  a legacy CMQ topic record anyone who can write there could have sent it: refused,
  ``not_a_queue_payload``.
* The project's envelopes (wire/envelopes.py): retry → notices with the envelope's attempt, source
  ``retry``; dead letter → notices replayed with attempt 1, source ``redrive``; a dead letter with no
  notices (a malformed payload) is refused again. Only a valid signature (wire/signature.py) restores
  them as they were; without one, lifecycle notices are fresh claims and anything else is refused
  (``unsigned_envelope``).

Anything else is refused, with a reason that names the field.
"""
from __future__ import annotations

from typing import Any, List, Optional

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from ..model import ActivityRef, LifecycleAction, Notice, Record
from ..wire import envelopes, signature
from .common import (
    Context,
    InstanceIdStr,
    Strict,
    dedupe,
    describe,
    ignored,
    join_path,
    json_type,
    loads,
    refused,
    short_repr,
    too_big,
    utf8_len,
)

AS_SERVICE = "Tencent Cloud Auto Scaling"
TERMINATING = "INSTANCE_TERMINATING"
ENVELOPE_MAX_BYTES = 1024 * 1024
"""A TDMQ-for-CMQ message is at most 1 MiB (docs/cloud-facts.md#cmq-queue-semantics, MaxMsgSize)."""
SCALE_IN = "SCALE_IN"
QUEUE_SOURCES = frozenset({"queue", "cmq", "ckafka"})
"""Carriers anyone who can write to them can fill: their payloads are claims, never an operator's word."""
NOT_A_QUEUE_PAYLOAD = "not_a_queue_payload"
UNSIGNED_ENVELOPE = "unsigned_envelope"

EXPECTED = (
    "expected an Auto Scaling lifecycle-hook or scaling-activity notification, "
    'a clb-unbind retry or dead-letter envelope, or {"instanceIds": [...]}'
)


class LifecycleTransitionOnly(Strict):
    LifecycleTransition: str


class LifecycleNotification(Strict):
    """AS lifecycle-hook notification; only the fields we use are typed (AppId, Time... are ignored)."""

    LifecycleTransition: str
    InstanceId: InstanceIdStr
    LifecycleHookId: str = Field(pattern=r"^ash-[0-9a-z]{8,32}$")
    LifecycleActionToken: Optional[str] = Field(default=None, min_length=1, max_length=256)
    AutoScalingGroupId: str = Field(pattern=r"^asg-[0-9a-z]{8,32}$")
    """Required: the claim is checked against this group (trust.py)."""
    ActivityId: Optional[str] = Field(default=None, pattern=r"^asa-[0-9a-z]{8,32}$")
    LifecycleHookName: Optional[str] = Field(default=None, max_length=256)
    dryRun: Optional[bool] = None


class ActivityTypeOnly(Strict):
    ActivityType: str


class ActivityNotification(Strict):
    ActivityType: str
    ActivityId: str = Field(pattern=r"^asa-[0-9a-z]{8,32}$")
    AutoScalingGroupId: Optional[str] = Field(default=None, max_length=128)
    StatusCode: Optional[str] = None
    dryRun: Optional[bool] = None


class DirectRequest(Strict):
    """``{"instanceIds": [...], "dryRun": false, "reason": "..."}``: operators, pipelines, API Gateway."""

    instanceIds: List[InstanceIdStr]
    dryRun: bool = False
    reason: Optional[str] = Field(default=None, max_length=256)

    @field_validator("instanceIds", mode="before")
    @classmethod
    def _count(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, list):
            limit = (info.context or {}).get("max_instances", 100)
            if not value:
                raise ValueError("needs at least one instance id")
            if len(value) > limit:
                raise ValueError(
                    f"at most {limit} instance ids per request (CLB_UNBIND_MAX_INSTANCES), got {len(value)}"
                )
        return value


def where(ctx: Context) -> str:
    return ctx.path or "event"


def is_envelope(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("kind"), str) and data["kind"].startswith("clb-unbind/")


def parse_body(body: str, ctx: Context) -> Record:
    """A message body as received (a string): size cap, JSON, then `parse_payload`.

    The cap is `max_payload_bytes`, except for the project's own envelopes, which carry the
    original payload plus notices and errors and so may be up to `ENVELOPE_MAX_BYTES` (the CMQ
    message size limit).
    """
    limit = ctx.settings.max_payload_bytes
    size = utf8_len(body)
    if size > max(limit, ENVELOPE_MAX_BYTES):
        return refused(ctx, too_big(where(ctx), size, max(limit, ENVELOPE_MAX_BYTES)), body)
    data, error = loads(body, where(ctx))
    if error:
        return refused(ctx, error if size <= limit else too_big(where(ctx), size, limit), body)
    if size > limit and not is_envelope(data):
        return refused(ctx, too_big(where(ctx), size, limit), body)
    return parse_payload(data, ctx, raw=body)


def parse_payload(data: Any, ctx: Context, *, raw: Optional[str]) -> Record:
    """A decoded payload → one `Record` (notices, activities, ignored or refused)."""
    if not isinstance(data, dict):
        return refused(ctx, f"{where(ctx)}: expected a JSON object, got {json_type(data)}", raw)
    if is_envelope(data):
        return _envelope(data, data["kind"], ctx, raw)
    if "LifecycleTransition" in data or "LifecycleHookId" in data or "LifecycleActionToken" in data:
        return _lifecycle(data, ctx, raw)
    if "ActivityType" in data:
        return _activity(data, ctx, raw)
    if "instanceIds" in data:
        return _direct(data, ctx, raw)
    if isinstance(data.get("Body"), dict) and "ClientContext" in data["Body"]:
        return refused(
            ctx,
            f"{where(ctx)}: an SCF dead-letter message is replayed by invoking the function with it "
            "as the event, not through a queue",
            raw,
        )
    if data.get("Service") == AS_SERVICE:
        return ignored(ctx, "Auto Scaling notification without a lifecycle transition or activity type", raw)
    return refused(ctx, f"{where(ctx)}: not a payload this function handles ({EXPECTED})", raw)


def _dry_run(ctx: Context, requested: Optional[bool]) -> bool:
    """A payload can ask for a dry run; it can never turn a configured dry run off."""
    return ctx.settings.dry_run or bool(requested)


def _lifecycle(data: dict, ctx: Context, raw: Optional[str]) -> Record:
    try:
        transition = LifecycleTransitionOnly.model_validate(data).LifecycleTransition
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    if transition != TERMINATING:
        return ignored(ctx, f"lifecycle transition {short_repr(transition)} is not {TERMINATING}", raw)
    try:
        msg = LifecycleNotification.model_validate(data)
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    notice = Notice(
        instance_id=msg.InstanceId,
        source=ctx.source,
        reason=TERMINATING,
        record_id=ctx.record_id,
        lifecycle=LifecycleAction(
            hook_id=msg.LifecycleHookId,
            token=msg.LifecycleActionToken,
            group_id=msg.AutoScalingGroupId,
            hook_name=msg.LifecycleHookName,
        ),
        dry_run=_dry_run(ctx, msg.dryRun),
        activity_id=msg.ActivityId,
    )
    return Record(record_id=ctx.record_id, source=ctx.source, notices=(notice,), payload=raw)


def _activity(data: dict, ctx: Context, raw: Optional[str]) -> Record:
    try:
        activity_type = ActivityTypeOnly.model_validate(data).ActivityType
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    if activity_type != SCALE_IN:
        return ignored(ctx, f"scaling activity type {short_repr(activity_type)} is not {SCALE_IN}", raw)
    try:
        msg = ActivityNotification.model_validate(data)
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    ref = ActivityRef(
        activity_id=msg.ActivityId,
        group_id=msg.AutoScalingGroupId,
        record_id=ctx.record_id,
        source=ctx.source,
        dry_run=_dry_run(ctx, msg.dryRun),
    )
    return Record(record_id=ctx.record_id, source=ctx.source, activities=(ref,), payload=raw)


def validate_direct(data: Any, ctx: Context) -> DirectRequest:
    """Raises `ValidationError`; shared with the API Gateway parser."""
    return DirectRequest.model_validate(data, context={"max_instances": ctx.settings.max_instances})


def direct_notices(req: DirectRequest, ctx: Context) -> tuple:
    reason = (req.reason or "").strip() or "operator"
    return tuple(
        Notice(
            instance_id=instance_id,
            source=ctx.source,
            reason=reason,
            record_id=ctx.record_id,
            dry_run=_dry_run(ctx, req.dryRun),
        )
        for instance_id in dedupe(req.instanceIds)
    )


def _direct(data: dict, ctx: Context, raw: Optional[str]) -> Record:
    if ctx.source in QUEUE_SOURCES:
        return refused(ctx, f"{NOT_A_QUEUE_PAYLOAD}: {where(ctx)}: a list of instance ids is an operator's word, taken "
                            "only from a direct invocation or a signed API Gateway request, never from a queue or topic",
                       raw, NOT_A_QUEUE_PAYLOAD)
    try:
        req = validate_direct(data, ctx)
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    return Record(record_id=ctx.record_id, source=ctx.source, notices=direct_notices(req, ctx), payload=raw)


def _envelope(data: dict, kind: str, ctx: Context, raw: Optional[str]) -> Record:
    if kind == envelopes.RETRY_KIND:
        model = envelopes.RetryEnvelope
    elif kind == envelopes.DEAD_LETTER_KIND:
        model = envelopes.DeadLetterEnvelope
    else:
        return refused(ctx, f"{join_path(ctx.path, 'kind')}: unknown envelope kind {short_repr(kind)}", raw)
    try:
        env = model.model_validate(data, context={"max_instances": ctx.settings.max_instances})
    except ValidationError as exc:
        return refused(ctx, describe(exc, ctx.path), raw)
    signed = signature.is_signed(data, ctx.settings.envelope_secret)
    if not signed:
        if env.activities or not any(n.lifecycle for n in env.notices):
            return refused(ctx, f"{UNSIGNED_ENVELOPE}: {where(ctx)}: an envelope without a valid signature "
                                "(CLB_UNBIND_ENVELOPE_SECRET) is nobody's word, and it holds no lifecycle claim to check",
                           raw, UNSIGNED_ENVELOPE)
    dry_run = _dry_run(ctx, env.dry_run)
    if isinstance(env, envelopes.RetryEnvelope):
        source, attempt = "retry", env.attempt
    else:
        if not env.notices and not env.activities:
            return refused(
                ctx,
                f"{join_path(ctx.path, 'notices')}: dead letter ({env.reason}) names no instance to replay; "
                "fix its original payload and send that instead",
                raw,
            )
        source, attempt = "redrive", 1
    notices = tuple(
        n.to_notice(
            source=source,
            record_id=ctx.record_id,
            attempt=attempt,
            dry_run=dry_run,
            first_seen=env.first_seen,
            prior_request_ids=env.request_ids,
            original=env.original,
            refusal=None if n.lifecycle else (n.refusal if signed else UNSIGNED_ENVELOPE),
        )
        for n in env.notices
    )
    activities = tuple(
        a.to_ref(source=source, record_id=ctx.record_id, attempt=attempt, dry_run=dry_run, first_seen=env.first_seen, original=env.original)
        for a in env.activities
    )
    return Record(record_id=ctx.record_id, source=ctx.source, notices=notices, activities=activities, payload=raw)
