"""EventBridge (CloudEvents 1.0) trigger.

Shape of a Tencent Cloud service event as EventBridge delivers it (Tencent docs "Cloud service
monitoring events" / "Alarm Policy Configuration", tencentcloud.com/document/product/1108/46252,
/1108/45206 and /248/65684)::

    {"specversion": "1.0", "id": "13a3f42d-...", "source": "cvm.cloud.tencent",
     "type": "cvm:ErrorEvent:PingUnreachable", "subject": "ins-xxxxxxxx", "time": 1615430559146,
     "region": "ap-guangzhou", "resource": ["qcs::eb:..."], "datacontenttype": "application/json;charset=utf-8",
     "tags": {...}, "status": "1",
     "data": {"appId": "1250000011", "instanceId": "ins-xxxxxxxx", "projectId": "11",
              "dimensions": {"ip": "127.0.0.1"}, "additionalMsg": {...}}}

Notes from those pages: ``type`` is ``${product}:ErrorEvent:${EventType}`` for alarm events;
``time`` is a number (ms since the epoch), not the RFC 3339 string of plain CloudEvents, so both are
accepted; ``status`` is ``"1"`` abnormal, ``"0"`` resolved, ``"-"`` stateless. The CVM event types
that exist (TCOP `DescribeAlarmEvents`, namespace cvm_device; e.g. `tccli eb ListCloudEventPatterns
--ProductType cvm` shows ``cvm:ErrorEvent:DiskReadonly``) include ``cvm:ErrorEvent:GuestReboot``,
``GuestCoreError``, ``GuestOom``, ``PingUnreachable``, ``DiskReadonly``, ``InstanceRestarting``
(planned restart for host maintenance), ``InstanceRestarted``, ``InstanceRunningRisks*``,
``InstanceRunningAbnormally*``, ``InstanceDiskError*``, ``InstanceNetworkError*`` and
``cvm:OperationEvent:InstancePowerOff`` / ``InstancePowerOn``. None announces a termination.

Which types unbind is `settings.eventbridge_types` (``CLB_UNBIND_EVENTBRIDGE_TYPES``); any other type
is ignored. ``data`` is then one of:

* an AS lifecycle or scaling-activity payload, a clb-unbind envelope or ``{"instanceIds": [...]}``
  (payloads.py), e.g. put on a custom bus with PutEvents;
* a queue connector event whose ``data.msgBody`` is such a payload as a string;
* a CVM event: ``data.instanceId`` names the instance; the notice's reason is the event type. A
  ``status`` of ``"0"`` (the problem is resolved) is ignored.

Trust: an event is believed only as far as its type allows.

* A ``cvm:`` type counts only from ``source`` ``cvm.cloud.tencent`` (the source of Tencent's CVM events
  in the pages above), and only as the CVM event schema: the one ``data.instanceId``. A ``cvm:`` event
  whose ``data`` is shaped as a payload (a list of ids, an envelope) is refused.
* Any other configured type may carry only a claim (an AS lifecycle or scaling-activity payload), which
  Auto Scaling must confirm before anything is unbound (trust.py). A list of ids or an envelope on an
  event bus is nobody's word: refused.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Optional

from pydantic import Field, ValidationError

from ..config import Settings
from ..model import Notice, Record
from . import payloads
from .common import Context, InstanceIdStr, IntOrStr, NumberOrStr, Strict, describe, ignored, json_type, refused, safe_dumps, too_big, utf8_len

PAYLOAD_MARKERS = ("LifecycleTransition", "LifecycleHookId", "ActivityType", "instanceIds", "kind")
CVM_SOURCE = "cvm.cloud.tencent"


class CloudEvent(Strict):
    specversion: str
    id: str = Field(min_length=1, max_length=512)
    source: str
    type: str
    subject: Optional[str] = None
    time: Optional[NumberOrStr] = None
    region: Optional[str] = None
    status: Optional[IntOrStr] = None
    data: Any = None


class CvmEventData(Strict):
    instanceId: InstanceIdStr


def looks_like(event: dict) -> bool:
    return "specversion" in event


def parse(event: dict, settings: Settings, now: float) -> Record:
    raw = safe_dumps(event)
    event_id = event.get("id")
    record_id = event_id if isinstance(event_id, str) and event_id else "eventbridge"
    ctx = Context(settings=settings, source="eventbridge", record_id=record_id, path="", now=now)
    try:
        ev = CloudEvent.model_validate(event)
    except ValidationError as exc:
        return refused(ctx, describe(exc), raw)
    if ev.type not in settings.eventbridge_types:
        return ignored(
            ctx, f"EventBridge type {ev.type!r} is not one this function acts on (CLB_UNBIND_EVENTBRIDGE_TYPES)", raw
        )
    data = ev.data
    if not isinstance(data, dict):
        return refused(ctx, f"data: expected an object, got {json_type(data)}", raw)
    size = utf8_len(safe_dumps(data))
    if size > settings.max_payload_bytes:
        return refused(ctx, too_big("data", size, settings.max_payload_bytes), raw)
    is_cvm = ev.type.startswith("cvm:")
    if is_cvm and ev.source != CVM_SOURCE:
        return refused(ctx, f"source: a {ev.type} event comes from {CVM_SOURCE!r}, not {ev.source[:60]!r}", raw)
    if not is_cvm and any(marker in data for marker in PAYLOAD_MARKERS):
        return _claim_only(payloads.parse_payload(data, ctx.at("data"), raw=raw), ctx, raw)
    if not is_cvm and isinstance(data.get("msgBody"), str):
        return _claim_only(payloads.parse_body(data["msgBody"], ctx.at("data", "msgBody")), ctx, raw)
    if is_cvm and any(marker in data for marker in PAYLOAD_MARKERS):
        return refused(ctx, f"data: a {ev.type} event names its one instance in data.instanceId, not a payload", raw)
    if "instanceId" not in data:
        return refused(ctx, f"data: no instanceId, and not a payload this function handles ({payloads.EXPECTED})", raw)
    if ev.status is not None and str(ev.status) == "0":
        return ignored(ctx, f"EventBridge {ev.type} event with status 0 reports a recovery", raw)
    try:
        cvm = CvmEventData.model_validate(data)
    except ValidationError as exc:
        return refused(ctx, describe(exc, "data"), raw)
    notice = Notice(
        instance_id=cvm.instanceId,
        source="eventbridge",
        reason=ev.type,
        record_id=record_id,
        dry_run=settings.dry_run,
    )
    return Record(record_id=record_id, source="eventbridge", notices=(notice,), payload=raw)


def _claim_only(record: Record, ctx: Context, raw: str) -> Record:
    """From an event bus, only a lifecycle or scale-in claim is accepted: Auto Scaling will check it."""
    if record.notices and not all(n.needs_confirmation for n in record.notices):
        return refused(ctx, "data: an event bus may carry an Auto Scaling lifecycle or scaling-activity payload, "
                            "not a list of instance ids or an envelope (use a direct call or API Gateway)", raw)
    return replace(record, payload=raw)
