"""A lifecycle or scale-in claim is checked with Auto Scaling before anything is unbound.

A queue message, a CKafka record, a legacy CMQ topic record or an EventBridge event that says "this
instance is leaving" is only a claim: anyone who can write to the queue can make it. It must name the
scaling group, and the instance is leaving only when Auto Scaling says so
(`DescribeAutoScalingInstances`, one call per 100 ids):

* it is a member of the named group in `IN_TERMINATING_HOOK` (it waits for us); or
* it is `TERMINATING` or `DETACHING` in the named group, or in no group at all, and the claim's
  `ActivityId` is an activity of the named group that takes instances out of service (`REMOVAL_TYPES`)
  and lists this instance (`DescribeAutoScalingActivities`, one call for every activity of a pass).

Anything else (in service, `DETACHING_LB`, stopped, a standalone instance, another group) is not leaving:
the instance is never unbound on the message's word. If Auto Scaling cannot be read, the claim is
retried, never believed. Direct and API Gateway calls are an operator's word and are not checked here
(docs/design.md#trust; docs/cloud-facts.md#as-instance-states).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from .cloud.autoscaling import PAST_THE_HOOK, WAITING_STATE, ActivityInfo, GroupMember, activities, members
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .log import decision
from .model import CVM_INSTANCE_ID, CloudFailure, Notice

NOT_LEAVING = "NotLeaving"
"""The function's own failure code for a claim Auto Scaling contradicts; its dead letters say `not_leaving`."""
UNSIGNED_ENVELOPE = "UnsignedEnvelope"
"""An operator's notice read back from an envelope without a valid signature; dead letters say `unsigned_envelope`."""
REFUSAL_CODES = {"unsigned_envelope": UNSIGNED_ENVELOPE}


@dataclass
class Verdict:
    """The claims Auto Scaling confirmed, and why each of the others is refused or must wait."""

    confirmed: List[Notice] = field(default_factory=list)
    refused: Dict[Notice, CloudFailure] = field(default_factory=dict)
    unchecked: Dict[Notice, CloudFailure] = field(default_factory=dict)
    """Claims that could not be checked (Auto Scaling could not be read): retried, never believed."""


def check_claims(session: CloudSession, notices: Sequence[Notice],
                 known: Optional[Dict[str, ActivityInfo]] = None) -> Verdict:
    """Split notices that need confirmation into confirmed and refused ones; others pass through.

    `known`: activities this pass already read (a scale-in notification's); only others are read."""
    verdict = Verdict()
    known = dict(known or {})
    for n in notices:
        if n.refusal:
            verdict.refused[n] = _refused(n, n.refusal)
    live = [n for n in notices if not n.refusal]
    verdict.confirmed.extend(n for n in live if not n.needs_confirmation)
    claims = [n for n in live if n.needs_confirmation]
    cvm: List[Notice] = []
    for n in claims:
        if not CVM_INSTANCE_ID.fullmatch(n.instance_id):
            verdict.refused[n] = _not_leaving(n, "Auto Scaling manages CVM instances only")
        elif not n.claimed_group:
            verdict.refused[n] = _not_leaving(n, "the message names no scaling group")
        else:
            cvm.append(n)
    if not cvm:
        return verdict
    try:
        seen = members(session, [n.instance_id for n in cvm])
    except CloudError as exc:
        return _unchecked(verdict, cvm, exc, "as:DescribeAutoScalingInstances")
    wanted = {n.activity_id for n in cvm if n.activity_id and _needs_activity(seen.get(n.instance_id), n)} - set(known)
    if wanted:
        try:
            known.update(activities(session, sorted(wanted)))
        except CloudError as exc:
            pending = [n for n in cvm if n.activity_id in wanted]
            _unchecked(verdict, pending, exc, "as:DescribeAutoScalingActivities")
            cvm = [n for n in cvm if n.activity_id not in wanted]
    for n in cvm:
        member = seen.get(n.instance_id)
        why = not_leaving_because(n, member, known.get(n.activity_id or ""))
        if why:
            verdict.refused[n] = _not_leaving(n, why)
        else:
            decision("claim_confirmed", instance_id=n.instance_id, group_id=n.claimed_group,
                     state=member.state if member else "not in a scaling group", activity_id=n.activity_id)
            verdict.confirmed.append(n)
    return verdict


def _needs_activity(member: Optional[GroupMember], notice: Notice) -> bool:
    return member is None or (member.group_id == notice.claimed_group and member.state in PAST_THE_HOOK)


def not_leaving_because(notice: Notice, member: Optional[GroupMember], activity: Optional[ActivityInfo]) -> str:
    """Why the claim does not hold, or "" when the instance is leaving the named group."""
    group = notice.claimed_group
    if member is not None and member.group_id != group:
        return f"it is {member.state} in {member.group_id}, not in {group} as the message says"
    if member is not None and member.state == WAITING_STATE:
        return ""
    if member is not None and member.state not in PAST_THE_HOOK:
        return f"Auto Scaling reports it {member.state} in {member.group_id}"
    where = f"{member.state} in {group}" if member else "in no scaling group"
    if not notice.activity_id:
        return f"it is {where}, and the message names no scaling activity that removes it"
    if activity is None:
        return f"it is {where}, and {notice.activity_id} is no scaling activity Auto Scaling knows"
    if activity.group_id != group:
        return f"it is {where}, and {notice.activity_id} is an activity of {activity.group_id}, not of {group}"
    if not activity.removes:
        return f"it is {where}, and {notice.activity_id} is a {activity.activity_type} activity, which removes nobody"
    if notice.instance_id not in activity.leaving:
        return f"it is {where}, and {notice.activity_id} does not remove it"
    return ""


def _unchecked(verdict: Verdict, notices: Sequence[Notice], exc: CloudError, action: str) -> Verdict:
    decision("claims_unchecked", level=logging.ERROR, instances=sorted({n.instance_id for n in notices}),
             action=action, error_code=exc.code, error_message=exc.failure.message)
    verdict.unchecked.update({n: exc.failure for n in notices})
    return verdict


def _not_leaving(notice: Notice, why: str) -> CloudFailure:
    decision("not_leaving", level=logging.WARNING, instance_id=notice.instance_id, record_id=notice.record_id,
             source=notice.source, group_id=notice.claimed_group, reason=why)
    return CloudFailure(NOT_LEAVING, f"{notice.instance_id} is not leaving: {why}; nothing was unbound", "as:DescribeAutoScalingInstances")


def _refused(notice: Notice, refusal: str) -> CloudFailure:
    decision(refusal, level=logging.WARNING, instance_id=notice.instance_id, record_id=notice.record_id, source=notice.source)
    code = REFUSAL_CODES.get(refusal, refusal)
    return CloudFailure(code, f"{notice.instance_id}: {refusal}: an operator's notice read back from an envelope "
                              "without a valid signature is nobody's word; nothing was unbound", "trust")
