"""A lifecycle or scale-in claim is checked with Auto Scaling before anything is unbound.

A queue message, a CKafka record or an EventBridge event that says "this instance is leaving" is
only a claim: anyone who can write to the queue can make it. Auto Scaling knows the truth
(`DescribeAutoScalingInstances`, one call per 100 ids): the claim holds when the instance waits on
a terminating hook or is already past it, or is no longer in any group (docs/design.md#trust).
An instance Auto Scaling reports in any other state (in service, launching,
stopped, ...) is never unbound on a message's word; neither is one that is in another group than the
claim names. Direct and API Gateway calls are an operator's word and are not checked here.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .cloud.autoscaling import LEAVING_STATES, members
from .cloud.errors import CloudError
from .cloud.session import CloudSession
from .log import decision
from .model import CVM_INSTANCE_ID, CloudFailure, Notice

NOT_LEAVING = "NotLeaving"
"""The function's own failure code for a claim Auto Scaling contradicts; its dead letters say `not_leaving`."""


@dataclass
class Verdict:
    """The claims Auto Scaling confirmed, and why each of the others is refused or must wait."""

    confirmed: List[Notice] = field(default_factory=list)
    refused: Dict[Notice, CloudFailure] = field(default_factory=dict)
    unchecked: Dict[Notice, CloudFailure] = field(default_factory=dict)
    """Claims that could not be checked (Auto Scaling could not be read): retried, never believed."""


def check_claims(session: CloudSession, notices: Sequence[Notice]) -> Verdict:
    """Split notices that need confirmation into confirmed and refused ones; others pass through."""
    verdict = Verdict()
    claims = [n for n in notices if n.needs_confirmation]
    verdict.confirmed.extend(n for n in notices if not n.needs_confirmation)
    if not claims:
        return verdict
    cvm = [n for n in claims if CVM_INSTANCE_ID.fullmatch(n.instance_id)]
    for n in claims:
        if n not in cvm:
            verdict.refused[n] = _refusal(n, "Auto Scaling manages CVM instances only")
    if not cvm:
        return verdict
    try:
        seen = members(session, [n.instance_id for n in cvm])
    except CloudError as exc:
        decision("claims_unchecked", level=logging.ERROR, instances=sorted({n.instance_id for n in cvm}),
                 error_code=exc.code, error_message=exc.failure.message)
        verdict.unchecked.update({n: exc.failure for n in cvm})
        return verdict
    for n in cvm:
        member = seen.get(n.instance_id)
        claimed_group = n.lifecycle.group_id if n.lifecycle else None
        if member is None:
            decision("claim_confirmed", instance_id=n.instance_id, state="not in a scaling group")
            verdict.confirmed.append(n)
        elif member.state not in LEAVING_STATES:
            verdict.refused[n] = _refusal(n, f"Auto Scaling reports it {member.state} in {member.group_id}")
        elif claimed_group and claimed_group != member.group_id:
            verdict.refused[n] = _refusal(n, f"it is in {member.group_id}, not in {claimed_group} as the message says")
        else:
            decision("claim_confirmed", instance_id=n.instance_id, state=member.state, group_id=member.group_id)
            verdict.confirmed.append(n)
    return verdict


def _refusal(notice: Notice, why: str) -> CloudFailure:
    decision("not_leaving", level=logging.WARNING, instance_id=notice.instance_id, record_id=notice.record_id,
             source=notice.source, reason=why)
    return CloudFailure(NOT_LEAVING, f"{notice.instance_id} is not leaving: {why}; nothing was unbound", "as:DescribeAutoScalingInstances")
