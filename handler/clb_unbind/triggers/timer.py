"""The SCF timer trigger's event (docs/cloud-facts.md#scf-timer-trigger, #cmq-delivery-path): it starts a consumer run.

``{"Type": "Timer", "TriggerName": "clb-unbind-consume", "Time": "2024-05-01T10:00:00Z", "Message": ""}``

The event carries no work of its own; the run reads its work from `CLB_UNBIND_QUEUE` and Auto Scaling.
"""
from __future__ import annotations

from typing import Any, Optional

from pydantic import ValidationError

from .common import Strict


class TimerEvent(Strict):
    Type: str
    TriggerName: Optional[str] = None
    Time: Optional[str] = None
    Message: Optional[str] = None


def is_timer_event(event: Any) -> bool:
    return isinstance(event, dict) and event.get("Type") == "Timer"


def trigger_name(event: Any) -> Optional[str]:
    try:
        return TimerEvent.model_validate(event).TriggerName
    except ValidationError:
        return None
