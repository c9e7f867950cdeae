"""`check`'s ``listener_deadline`` line (issue 19, point 5): every TCP/UDP listener of the watched groups'
load balancers with its reschedule settings, and what a layer-4 deadline would add to the function's
drain. Advice only: always ``ok``; neither `check` nor `setup` changes a listener (they belong to the
user).

Sources (SDK clb 3.1.194 models.py, tccli 3.1.189.1 clb api.json), each field "仅TCP/UDP监听器支持":
* ``Listener`` (DescribeListeners' reply) carries ``DeregisterTargetRst`` ("解绑后端服务开关，打开此开关，当
  解绑后端服务时触发重新调度"), ``RescheduleInterval`` ("重新调度触发持续时间，取值0~3600s ... 触发重新调度后，长连接
  将会在设置的调度时间内断开并完成重新分配") and ``RescheduleStartTime`` ("重新调度启动时间，配置了重新调度启动时间后，
  会在启动时间到达时触发重新调度"; on ModifyListener "重新调度触发开始时间，取值0~3600s").
* ``RescheduleTargetZeroWeight`` ("权重调为0开关，打开此开关，后端服务器权重调为0时触发重新调度"),
  ``RescheduleUnhealthy`` and ``RescheduleExpandTarget`` exist only on ``CreateListenerRequest`` /
  ``ModifyListenerRequest``: ``Listener`` has no such member, so no read reports them.

The function's drain (handler ``config.py``, docs/drain.md): ``CLB_UNBIND_DRAIN`` off (unbind at once),
fixed (weight 0, ``CLB_UNBIND_DRAIN_SECONDS``, unbind) or adaptive (weight 0, unbind once the
connections read 0, or at the cap: the smaller of ``CLB_UNBIND_DRAIN_MAX_SECONDS`` and the hook's
heartbeat less one timer interval, one run and the margin; handler ``drain_adaptive.cap_seconds``).

UNCONFIRMED (no source states them): what CLB does with connections still open at an unbind when
``DeregisterTargetRst`` is off; what ``RescheduleInterval`` 0 means; whether ``RescheduleStartTime`` is a
delay after the trigger or a time.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from .findings import Finding
from .function_settings import handler_module
from .group_reads import Reading

NAME = "listener_deadline"
LAYER4 = ("TCP", "UDP")


def caps(reading: Reading, heartbeats: Mapping[str, Optional[int]]) -> Dict[str, float]:
    """Each watched group's adaptive drain cap, as the function computes it (its own function)."""
    s = reading.settings
    cap = handler_module("drain_adaptive").cap_seconds
    return {g.group_id: cap(s.drain_max_seconds, heartbeats.get(g.group_id), s.timer_seconds, s.consume_seconds,
                            s.safety_margin_seconds) for g in reading.groups if g.exists}


def _drain(reading: Reading, group_caps: Dict[str, float]) -> str:
    s = reading.settings
    if s.drain_mode == "adaptive":
        spread = sorted(set(int(c) for c in group_caps.values()))
        cap = f"{spread[0]} s" if len(spread) == 1 else (f"{spread[0]}–{spread[-1]} s" if spread else f"{int(s.drain_max_seconds)} s")
        return (f"CLB_UNBIND_DRAIN=adaptive: weight 0, then the unbind once the connections read 0, or at the drain "
                f"cap ({cap}: CLB_UNBIND_DRAIN_MAX_SECONDS {int(s.drain_max_seconds)} s or the hook's heartbeat less "
                f"one timer interval, one run and the margin)")
    if s.drain_mode == "fixed":
        return f"CLB_UNBIND_DRAIN=fixed: weight 0, the unbind {int(s.drain_seconds)} s later"
    return "CLB_UNBIND_DRAIN=off: the unbind at once, no weight 0 first"


def _listener_line(lb: str, x: Dict[str, Any], mode: str) -> str:
    rst = bool(x.get("DeregisterTargetRst"))
    interval = x.get("RescheduleInterval")
    start = x.get("RescheduleStartTime")
    head = (f"{lb}/{x.get('ListenerId')} {x.get('Protocol')}:{x.get('Port')}: DeregisterTargetRst "
            f"{'on' if rst else 'off'}, RescheduleInterval "
            f"{'not reported' if interval is None else f'{interval} s'}, RescheduleStartTime "
            f"{'not reported' if start is None else start}")
    when = {"adaptive": "at the drain's end (zero connections, or the cap)", "fixed": "after the fixed wait",
            "off": "at once"}[mode]
    if rst and interval:
        then = (f"connections still open at the unbind ({when}) are broken and reassigned within {interval} s of it "
                f"(RescheduleInterval)")
    elif rst:
        then = f"the unbind ({when}) triggers rescheduling; RescheduleInterval {interval or 0}: its meaning at 0 is UNCONFIRMED"
    else:
        then = (f"the unbind ({when}) triggers no rescheduling: what CLB does with connections still open then is "
                f"UNCONFIRMED")
    kind = str(x.get("TargetType") or "NODE")
    if kind == "POLARIS":
        then = "a POLARIS listener: the function unbinds nothing here (it cannot see its backends)"
    elif kind != "NODE":
        then += (f" ({kind}: the function removes members from the target group, not from the listener; whether the "
                 f"listener's reschedule settings apply to that is UNCONFIRMED)")
    return f"{head}: {then}"


def _deadline(mode: str) -> str:
    if mode == "off":
        return ("a deadline would add nothing while the function unbinds at once; with a drain, RescheduleTargetZeroWeight "
                "on would make the weight 0 start it")
    return ("a deadline would add: RescheduleTargetZeroWeight on (ModifyListener; no read reports it, so check "
            "cannot tell whether it is on) with a RescheduleInterval makes the drain's weight 0 trigger rescheduling, "
            "so long connections are moved within that interval of the weight 0 instead of waiting for the "
            "function's unbind; an interval below the drain cap ends a drain on connections that never close "
            "before the cap")


def finding(reading: Reading, heartbeats: Mapping[str, Optional[int]]) -> Finding:
    group_caps = caps(reading, heartbeats)
    mode = reading.settings.drain_mode if reading.settings.drain_mode in ("adaptive", "fixed") else "off"
    lines: List[str] = []
    for lb in sorted(reading.listeners):
        for x in sorted(reading.listeners[lb], key=lambda x: str(x.get("ListenerId"))):
            if str(x.get("Protocol") or "").upper() in LAYER4:
                lines.append(_listener_line(lb, x, mode))
    unread = [f"{lb} ({why})" for lb, why in sorted(reading.unread.items())]
    if not lines:
        detail = "no TCP/UDP listener on the watched groups' load balancers"
    else:
        detail = f"advice only, setup changes no listener; {_drain(reading, group_caps)}; " + "; ".join(lines) + \
            f"; {_deadline(mode)}"
    if unread:
        detail += f"; listeners not read: {', '.join(unread)}"
    return Finding(NAME, True, detail)
