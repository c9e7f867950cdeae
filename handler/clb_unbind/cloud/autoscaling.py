"""AS 2018-04-19: completing lifecycle actions and reading scaling activities."""
from __future__ import annotations

from typing import Dict, List, Sequence

from ..model import LifecycleAction
from .errors import CloudError
from .session import CloudSession

ALREADY_SET = "ResourceUnavailable.LifecycleActionResultHasSet"  # autoscaling errorcodes.py (tencent-facts §1.3)


def complete_lifecycle_action(session: CloudSession, instance_id: str, action: LifecycleAction, result: str = "CONTINUE") -> bool:
    """Complete the action; True if this call set the result, False if it was already set (also success)."""
    params: Dict[str, object] = {"LifecycleHookId": action.hook_id, "LifecycleActionResult": result}
    if action.token:
        params["LifecycleActionToken"] = action.token
    else:
        params["InstanceId"] = instance_id
    try:
        session.call("as", "CompleteLifecycleAction", params)
    except CloudError as exc:
        if exc.code == ALREADY_SET:
            return False
        raise
    return True


def scale_in_instances(session: CloudSession, activity_ids: Sequence[str]) -> Dict[str, List[str]]:
    """Instance ids of each SCALE_IN activity (`RelatedInstanceSet`; the notification carries none, §1.4)."""
    found: Dict[str, List[str]] = {}
    for start in range(0, len(activity_ids), 100):
        part = list(activity_ids[start : start + 100])
        reply = session.call("as", "DescribeAutoScalingActivities", {"ActivityIds": part, "Limit": len(part)})
        for activity in reply.get("ActivitySet") or []:
            if activity.get("ActivityType") != "SCALE_IN":
                continue
            ids = [i.get("InstanceId") for i in activity.get("RelatedInstanceSet") or []]
            found[activity.get("ActivityId")] = [i for i in ids if i]
    return found
