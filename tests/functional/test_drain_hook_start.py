"""A drain the function did not see begin (its envelope lost, or its notification) is capped by the hook's
start, not only by the moment it was found (docs/drain.md#a-drain-the-function-did-not-see-begin): the
instance entered its hook when its scale-in activity had started at the latest, and Auto Scaling ends the
wait a heartbeat later, whatever the function does. The emulator's periods last a second; timer runs are
a second apart, as the function is told (CLB_UNBIND_TIMER_SECONDS=1)."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import pytest

from emulator.scaling import iso
from tests.estates import base_estate

from .test_drain_adaptive import ENV, TIMER, completed, drains
from .test_sweep import start as start_on

HEARTBEAT = 300  # ash-hook0001's HeartbeatTimeout in the demo estate
RUN = 20  # CLB_UNBIND_CONSUME_SECONDS: the run the cap keeps back, and the slack the test leaves
MARGIN = 3  # CLB_UNBIND_SAFETY_MARGIN_SECONDS, the default
TIMER_SECONDS = 1
AHEAD = 4  # the cap counted from the hook's start falls this long after the first run
HOOK_ENV = {**ENV, "CLB_UNBIND_CONSUME_SECONDS": str(RUN)}


def _estate(started: float, weight_zero: str, listed: bool = True) -> Dict[str, Any]:
    """The demo estate with its scale-in activity started at `started`; `weight_zero`'s bindings already
    weigh 0 (a drain under way whose envelope was lost); `listed` False: the activity names nobody."""
    estate = base_estate()
    (activity,) = estate["activities"]
    activity["startTime"] = iso(started)
    if not listed:
        activity["relatedInstances"] = []
    for lb in estate["loadBalancers"]:
        for listener in lb["listeners"]:
            for holder in [listener, *listener.get("rules", [])]:
                for target in holder.get("targets", []):
                    if target["instanceId"] == weight_zero:
                        target["weight"] = 0
    return estate


def _filtered_activity_reads(emu: Any) -> int:
    """DescribeAutoScalingActivities asking for unfinished activities (the hook audit reads finished ones)."""
    return sum(1 for c in emu.calls if c.action == "DescribeAutoScalingActivities"
               and any(f["Name"] == "activity-status-code" for f in c.params.get("Filters", [])))


def _targets(params: Dict[str, Any]) -> List[Dict[str, Any]]:
    """BatchDeregisterTargets' `Targets`, BatchModifyTargetWeight's `ModifyList[].Targets`."""
    return list(params.get("Targets", [])) + [t for m in params.get("ModifyList", []) for t in m.get("Targets", [])]


def _calls(emu: Any, action: str, instance_id: str) -> List[Any]:
    return [c for c in emu.calls if c.action == action and (
        c.params.get("InstanceId") == instance_id or any(t.get("InstanceId") == instance_id for t in _targets(c.params)))]


def test_a_drain_resumed_late_in_its_hook_is_unbound_and_completed_before_the_heartbeat_ends(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    """ins-web00001 has drained for most of its heartbeat (weights at 0, envelope lost); ins-web00002's
    notification was lost. The sweep finds both. Counted from the first run, their cap (the heartbeat less
    a timer interval, a run and the margin) would fall after the wait ends; counted from the activity's
    start it falls AHEAD seconds after the first run. On main the two stayed bound past the heartbeat."""
    started = int(time.time()) - (HEARTBEAT - TIMER_SECONDS - RUN - MARGIN - AHEAD)
    hook_end = started + HEARTBEAT
    cap_at = hook_end - TIMER_SECONDS - RUN - MARGIN
    emu = start_on(make_emulator, monkeypatch, _estate(started, "ins-web00001"))
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0)
    emu.set_connections("10.0.0.11", 5, stuck=5)  # never close: only the cap ends ins-web00001's drain
    emu.set_connections("10.0.0.12", 5, stuck=5)
    answers, reads = [], []
    while time.time() < hook_end and not (completed(emu, "ins-web00001") and completed(emu, "ins-web00002")):
        before = _filtered_activity_reads(emu)
        answers.append(invoke(TIMER, **HOOK_ENV))
        reads.append(_filtered_activity_reads(emu) - before)
        time.sleep(1.0)
    assert completed(emu, "ins-web00001") and completed(emu, "ins-web00002")
    assert not _calls(emu, "BatchModifyTargetWeight", "ins-web00001")  # resumed: its weights were already 0
    assert _calls(emu, "BatchModifyTargetWeight", "ins-web00002")
    for iid in ("ins-web00001", "ins-web00002"):
        unbinds = _calls(emu, "BatchDeregisterTargets", iid)
        (completion,) = _calls(emu, "CompleteLifecycleAction", iid)
        assert unbinds and all(c.at < hook_end for c in unbinds)
        capped = [c for c in unbinds if any(t.get("InstanceId") == iid and t.get("ListenerId") == "lbl-tcp00080"
                                            for t in c.params["Targets"])]
        assert capped and all(c.at >= cap_at for c in capped)  # not before its cap either
        assert max(c.at for c in unbinds) <= completion.at < hook_end
        tcp = [d for d in drains(answers, iid) if "lbl-tcp00080" in d["binding"]]
        assert tcp and {d["how"] for d in tcp} == {"drain_cap"} and {d["connections"] for d in tcp} <= {5.0, None}
    # The bound: one DescribeAutoScalingActivities for the one group with such drains, in the run that found them.
    assert reads[0] == 1 and sum(reads) == 1


def test_a_drain_resumed_with_no_activity_naming_the_instance_ends_at_once(
        make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    """When the hook's start cannot be read, the wait may be about to run out: the resumed drain ends in
    the run that finds it (drain_cap, nothing read) rather than counting a full cap from then. On main it
    went on draining."""
    emu = start_on(make_emulator, monkeypatch, _estate(time.time(), "ins-web00001", listed=False))
    emu.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=1.0)
    emu.set_connections("10.0.0.11", 5, stuck=5)
    answer = invoke(TIMER, **HOOK_ENV)
    assert completed(emu, "ins-web00001")
    assert not _calls(emu, "BatchModifyTargetWeight", "ins-web00001")
    tcp = [d for d in drains([answer], "ins-web00001") if "lbl-tcp00080" in d["binding"]]
    assert tcp and {d["how"] for d in tcp} == {"drain_cap"} and {d["connections"] for d in tcp} == {None}
    assert _filtered_activity_reads(emu) == 1
