"""An adaptive drain's state, as it travels in the signed retry envelope (docs/drain.md).

Per leaving instance: when its weights went to 0 (`since`, Unix seconds), when the drain ends whatever
the connections say (`capAt`), and per binding the readings so far: how many consecutive 60 s periods
read 0 connections after the weight change, the last period read, and its value.
"""
from __future__ import annotations

from typing import Optional, Tuple

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, validate_by_name=True,
                              validate_by_alias=True, serialize_by_alias=True)


class BindingDrain(_Model):
    key: str = Field(min_length=1)
    """The binding's label (`Binding.label`): which binding these readings belong to."""
    backend: Optional[Tuple[str, str, int, str, str, int]] = None
    """The RS-port dimension set read (vip, vpc id, listener port, protocol, IP, port); none: no metric
    exists for this binding (ECM, target groups), so it waits the fixed time."""
    namespace: Optional[str] = Field(default=None, exclude_if=lambda v: v is None)
    """The Cloud Monitor namespace the backend is read in: `QCE/LB_PUBLIC` for a public CLB; none (also
    every envelope written before public CLBs were read) is the private CLB's `QCE/LB_RS_PRIVATE`."""
    zeros: int = Field(default=0, ge=0)
    last_period: Optional[float] = None
    last_value: Optional[float] = None


class DrainState(_Model):
    since: float
    cap_at: float
    bindings: Tuple[BindingDrain, ...] = ()
    look: Optional[str] = Field(default=None, exclude_if=lambda v: v is None)
    """Which look wrote this state (a fresh id each time it is re-queued). A run that re-queued an
    instance's drain knows the id it sent, so an envelope of the same instance met later in that run is
    either this one back early (same id: looked at again) or another chain of the same drain (a resumed
    duplicate, a redelivered older envelope: it ends there, docs/drain.md#one-chain-per-drain)."""

    def binding(self, key: str) -> Optional[BindingDrain]:
        return next((b for b in self.bindings if b.key == key), None)
