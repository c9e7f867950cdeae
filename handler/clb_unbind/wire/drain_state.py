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
    zeros: int = Field(default=0, ge=0)
    last_period: Optional[float] = None
    last_value: Optional[float] = None


class DrainState(_Model):
    since: float
    cap_at: float
    bindings: Tuple[BindingDrain, ...] = ()

    def binding(self, key: str) -> Optional[BindingDrain]:
        return next((b for b in self.bindings if b.key == key), None)
