"""Knobs (fault injection and timing) and the per-action rate limiter.

All random choices are drawn from one ``random.Random(seed)`` owned by the emulator, so a run
with the same seed and the same request order replays the same faults.
"""
from __future__ import annotations

import collections
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from .cmq.codes import CODES as CMQ_CODES
from .errors import ApiError


@dataclass
class Knobs:
    """Behaviour switches; settable at construction, via ``Emulator.set_knobs`` and ``POST /_emulator/knobs``.

    * ``task_seconds`` – how long a write's task runs before its change is applied.
    * ``latency_seconds`` – added before every API reply.
    * ``error_rate`` – fraction of requests answered ``InternalError`` before anything is applied.
    * ``drop_reply_rate`` – fraction of write requests that are applied and whose reply is then lost
      (``drop_reply_mode`` ``"close"``: connection closed, the SDK raises ``ClientNetworkError``;
      ``"http502"``: HTTP 502, the SDK raises ``ServerNetworkError`` with the page as its message;
      ``"http502_echo"``: the same with a page that echoes the request headers, ``X-TC-Token``
      included, as some proxies' error pages do).
    * ``busy_rate`` – fraction of load-balancer writes answered "resource in operation".
    * ``task_fail_rate`` – fraction of tasks that end with status 1 (failed) and change nothing.
    * ``not_bound_as_failure`` – a target that is not bound puts its listener in ``FailListenerIdSet``
      (or fails a single-listener write) instead of being silently ignored.
    * ``rate_limit_per_second`` – admitted requests per (service, action) in any 1 s window; 0 = off.
      20/s is the documented default of these APIs (docs/cloud-facts.md#clb-rate-limit, "默认接口请求频率限制：20次/秒").
    * ``seed`` – seeds the random generator (re-seeded when changed).
    * ``fault_actions`` – action names (``"BatchDeregisterTargets"``) or ``"service:Action"``
      (``"ecm:BatchDeregisterTargets"``) the random faults apply to; empty = every action.
    * ``max_clock_skew_seconds`` – ``X-TC-Timestamp`` tolerance (SDK ``credential.py``: 300 s); the CMQ
      data plane applies it to its ``Timestamp`` parameter too.

    CMQ data plane (API 2.0; the API 3.0 fault knobs above do not touch it):

    * ``cmq_error_code`` / ``cmq_error_rate`` – that fraction of data-plane requests is answered with
      that code (a documented non-zero code, default 6000 internal error) before anything is applied.
    * ``cmq_empty_rate`` – fraction of receives answered 7000 (no message) at once, while messages wait.
    * ``cmq_duplicate_rate`` – fraction of delivered messages that stay visible, so the next receive
      delivers them again (with a new receipt handle; the first one then gets 4430).
    * ``cmq_fault_actions`` – data-plane actions (``"BatchReceiveMessage"``) the three above apply to;
      empty = all.
    * ``cmq_rate_limit_per_second`` – per action, more → 4420; 0 = off ("QPS 5000", docs/cloud-facts.md#cmq-queue-semantics).

    Auto Scaling:

    * ``as_terminate_seconds`` – how long a TERMINATING member stays in its scaling group before it is
      gone from ``DescribeAutoScalingInstances``; ``None`` (default) = it stays TERMINATING.

    Cloud Monitor (``services/monitor.py``, ``connections.py``):

    * ``monitor_period_seconds`` – how long what the API calls a 60 s period lasts (1: a period a second,
      so tests and the bench take seconds); replies' timestamps step by it.
    * ``monitor_delay_seconds`` – a period's data point is published this long after the period ends;
      until then the period has no data point.
    * ``monitor_error_rate`` – fraction of GetMonitorData calls answered ``FailedOperation.DataQueryFailed``.
    * ``monitor_no_ecm_regions`` – regions whose Cloud Monitor has no ``QCE/ECM_LB`` data: there every ECM
      dimension set answers without a data point (Tencent documents that namespace for some regions only;
      which, and how a region without it answers, is not stated: a model, see services/monitor.py).
    * ``monitor_skip_target_groups`` – target-group members are not reported as their listener's real
      servers (by default they are; neither is documented).

    Replies as the SDK documents them, and refusals:

    * ``send_result_false`` – TDMQ ``SendCmqMsg`` answers ``Result: false`` and keeps nothing
      (``SendCmqMsgResponse.Result``: "true表示发送成功").
    * ``clb_batch_deregister_async`` – CLB ``BatchDeregisterTargets`` runs as a task (applied after
      ``task_seconds``, polled with DescribeTaskStatus) instead of synchronously, the default (see clb.py).
    * ``listeners_show_target_groups`` – CLB ``DescribeLBListeners`` also reports target-group members as
      targets of the listeners and rules their groups serve. Whether the real API does is not documented
      (its ``LbRsTargets`` has no target-group field); off by default, on to test either answer.
    * ``not_bound_rejects_call`` – a CLB/ECM ``BatchDeregisterTargets`` naming a target that is not bound
      is refused whole with ``InvalidParameter`` and changes nothing (docs/cloud-facts.md#clb-unbinding-a-target-that-is-not-bound).
    * ``refuse_ids`` – instance ids, IPs or load balancer ids that a read naming them (CVM/ECM
      DescribeInstances, CLB DescribeLBListeners, ECM DescribeLoadBalancers/DescribeTargets) is refused
      for, as a CAM policy denying one resource would: ``UnauthorizedOperation`` (cvm, clb
      errorcodes.py), ``AuthFailure.UnauthorizedOperation`` (ecm errorcodes.py).

    Tencent's API specification (:mod:`emulator.spec`):

    * ``spec_nulls`` – every reply member that tccli's api.json marks ``value_allowed_null`` is answered
      ``null`` (recursively), as the spec allows the real API to.
    * ``spec_null_actions`` – ``Action`` or ``service:Action`` names ``spec_nulls`` is limited to; empty = all.
    * ``spec_nulls_inner`` – the nulls land on the innermost nullable members (a nullable list keeps its
      items when they hold nullable members, and those are nulled).
    * ``spec_examples`` – a successful call is answered with Tencent's own example reply of the action
      (tccli's examples.json, its ``RequestId`` replaced), after the emulator has done the work;
      ``spec_example_actions`` limits it to these ``Action`` / ``service:Action`` names (empty = all).
    """

    task_seconds: float = 0.05
    latency_seconds: float = 0.0
    error_rate: float = 0.0
    drop_reply_rate: float = 0.0
    drop_reply_mode: str = "close"
    busy_rate: float = 0.0
    task_fail_rate: float = 0.0
    not_bound_as_failure: bool = False
    rate_limit_per_second: int = 20
    seed: int | None = 0
    fault_actions: frozenset[str] = field(default_factory=frozenset)
    max_clock_skew_seconds: int = 300
    cmq_error_code: int = 6000
    cmq_error_rate: float = 0.0
    cmq_empty_rate: float = 0.0
    cmq_duplicate_rate: float = 0.0
    cmq_fault_actions: frozenset[str] = field(default_factory=frozenset)
    cmq_rate_limit_per_second: int = 5000
    as_terminate_seconds: float | None = None
    send_result_false: bool = False
    clb_batch_deregister_async: bool = False
    not_bound_rejects_call: bool = False
    listeners_show_target_groups: bool = False
    refuse_ids: frozenset[str] = field(default_factory=frozenset)
    monitor_period_seconds: float = 60.0
    monitor_delay_seconds: float = 60.0
    monitor_error_rate: float = 0.0
    monitor_no_ecm_regions: frozenset[str] = field(default_factory=frozenset)
    monitor_skip_target_groups: bool = False
    spec_nulls: bool = False
    spec_null_actions: frozenset[str] = field(default_factory=frozenset)
    spec_nulls_inner: bool = False
    spec_examples: bool = False
    spec_example_actions: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        self.fault_actions = frozenset(self.fault_actions or ())
        self.cmq_fault_actions = frozenset(_as_iterable(self.cmq_fault_actions))
        self.refuse_ids = frozenset(_as_iterable(self.refuse_ids))
        self.monitor_no_ecm_regions = frozenset(_as_iterable(self.monitor_no_ecm_regions))
        self.spec_null_actions = frozenset(_as_iterable(self.spec_null_actions))
        self.spec_example_actions = frozenset(_as_iterable(self.spec_example_actions))
        self.validate()

    def validate(self) -> None:
        for name in ("error_rate", "drop_reply_rate", "busy_rate", "task_fail_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"knob {name} must be within [0, 1], got {value!r}")
        for name in ("task_seconds", "latency_seconds"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"knob {name} must be >= 0")
        if int(self.rate_limit_per_second) < 0:
            raise ValueError("knob rate_limit_per_second must be >= 0")
        if self.drop_reply_mode not in ("close", "http502", "http502_echo"):
            raise ValueError("knob drop_reply_mode must be 'close', 'http502' or 'http502_echo'")
        self._validate_cmq_and_as()

    def _validate_cmq_and_as(self) -> None:
        for name in ("cmq_error_rate", "cmq_empty_rate", "cmq_duplicate_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"knob {name} must be within [0, 1], got {value!r}")
        if self.cmq_error_code not in CMQ_CODES or self.cmq_error_code == 0:
            raise ValueError(f"knob cmq_error_code must be a documented non-zero CMQ code: {sorted(CMQ_CODES - {0})}")
        if int(self.cmq_rate_limit_per_second) < 0:
            raise ValueError("knob cmq_rate_limit_per_second must be >= 0")
        if float(self.monitor_period_seconds) <= 0 or float(self.monitor_delay_seconds) < 0:
            raise ValueError("knob monitor_period_seconds must be > 0 and monitor_delay_seconds >= 0")
        if not 0.0 <= float(self.monitor_error_rate) <= 1.0:
            raise ValueError("knob monitor_error_rate must be within [0, 1]")
        if self.as_terminate_seconds is not None and float(self.as_terminate_seconds) < 0:
            raise ValueError("knob as_terminate_seconds must be >= 0 or None")

    def async_overrides(self) -> frozenset[tuple[str, str]]:
        """Actions a knob deliberately runs against api.json's sync/async rule (what-if scenarios)."""
        return frozenset({("clb", "BatchDeregisterTargets")}) if self.clb_batch_deregister_async else frozenset()

    def nulls_for(self, service: str, action: str) -> bool:
        """Whether ``spec_nulls`` applies to this call."""
        return self.spec_nulls and _named(self.spec_null_actions, service, action)

    def examples_for(self, service: str, action: str) -> bool:
        """Whether ``spec_examples`` applies to this call."""
        return self.spec_examples and _named(self.spec_example_actions, service, action)

    def applies_to(self, service: str, action: str) -> bool:
        """Whether random faults are enabled for this call."""
        return not self.fault_actions or action in self.fault_actions or f"{service}:{action}" in self.fault_actions

    def updated(self, **changes: Any) -> "Knobs":
        """A copy with ``changes``; unknown names raise ``ValueError``."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        for name in ("fault_actions", "cmq_fault_actions", "refuse_ids", "spec_null_actions",
                     "spec_example_actions"):
            if name in changes:
                changes[name] = frozenset(_as_iterable(changes[name]))
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["fault_actions"] = sorted(self.fault_actions)
        data["cmq_fault_actions"] = sorted(self.cmq_fault_actions)
        data["refuse_ids"] = sorted(self.refuse_ids)
        data["spec_null_actions"] = sorted(self.spec_null_actions)
        data["spec_example_actions"] = sorted(self.spec_example_actions)
        return data


def refused_value(knobs: Knobs, params: Any) -> str | None:
    """The first value of ``knobs.refuse_ids`` named anywhere in ``params`` (strings, nested)."""
    if not knobs.refuse_ids:
        return None
    if isinstance(params, str):
        return params if params in knobs.refuse_ids else None
    values = params.values() if isinstance(params, dict) else params if isinstance(params, list) else ()
    for value in values:
        hit = refused_value(knobs, value)
        if hit is not None:
            return hit
    return None


def deny(knobs: Knobs, params: Any, code: str) -> None:
    """Knob ``refuse_ids``: a read naming a resource a CAM policy denies is refused with ``code``."""
    value = refused_value(knobs, params)
    if value is not None:
        raise ApiError(code, f"You are not authorized to access resource {value} (emulated CAM denial).")


def _named(names: frozenset[str], service: str, action: str) -> bool:
    return not names or action in names or f"{service}:{action}" in names


def _as_iterable(value: Any) -> Iterable[str]:
    if value is None:
        return ()
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


class RateLimiter:
    """Sliding one-second window per key; only admitted requests count toward the window."""

    def __init__(self) -> None:
        self._hits: dict[tuple[str, str], collections.deque[float]] = collections.defaultdict(collections.deque)

    def admit(self, key: tuple[str, str], now: float, limit: int) -> tuple[bool, int]:
        """``(admitted, requests_in_window_including_this_one)``; ``limit`` 0 admits everything."""
        if limit <= 0:
            return True, 0
        hits = self._hits[key]
        while hits and now - hits[0] >= 1.0:
            hits.popleft()
        if len(hits) >= limit:
            return False, len(hits) + 1
        hits.append(now)
        return True, len(hits)
