"""When an instance entered its terminating hook, at the earliest (docs/drain.md#a-drain-the-function-did-not-see-begin).

An adaptive drain's cap must fall inside the hook's heartbeat, which runs from the moment the instance
entered the hook. A drain the function saw begin (a notification just arrived) starts with the hook;
one it did not (the sweep found the instance waiting: its notification or its drain envelope was lost)
may have been waiting for most of its heartbeat already. Auto Scaling does not say when the wait began,
but the wait is part of the scaling activity that removes the instance (cloud/autoscaling.py,
`UNFINISHED`), which cannot have started later: that activity's `StartTime` is the earliest moment the
instance could have entered the hook, and a cap counted from it is never past the heartbeat's end.

Reads: the unfinished activities of the groups asked about, one `DescribeAutoScalingActivities` per 5
groups, each group read at most once a run (the answer is kept in the run's session memo, a failed read
too). So a run costs at most one call per group with such drains, and none when there is none.
"""
from __future__ import annotations

import logging
from typing import Dict, Mapping, Optional

from .cloud.autoscaling import REMOVAL_TYPES, unfinished_activities
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .log import decision

MEMO = "hook_starts"


def hook_started(session: CloudSession, groups: Mapping[str, str]) -> Dict[str, Optional[float]]:
    """instance id → group id in; instance id → the earliest `StartTime` of an unfinished activity of
    its group that takes instances out and names it, or None when that cannot be read (a failed call,
    no such activity, no parsable start)."""
    memo: Dict[str, Optional[Dict[str, float]]] = session.memo.setdefault(MEMO, {})
    unread = sorted(set(groups.values()) - set(memo))
    if unread:
        try:
            found = unfinished_activities(session, unread)
        except CloudError as exc:
            decision("hook_start_unread", level=logging.WARNING, groups=unread, error_code=exc.code,
                     error_message=exc.failure.message, reason="the hook may end at any moment: drains the function did not see begin end at this look")
            memo.update({g: None for g in unread})
        else:
            read: Dict[str, Dict[str, float]] = {g: {} for g in unread}
            for a in found:
                if a.group_id not in read or a.activity_type not in REMOVAL_TYPES or a.start is None:
                    continue
                for iid in a.leaving:
                    read[a.group_id][iid] = min(read[a.group_id].get(iid, a.start), a.start)
            memo.update(read)
    return {iid: (memo.get(g) or {}).get(iid) for iid, g in groups.items()}
