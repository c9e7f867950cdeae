"""Registry of emulated services, keyed by the credential-scope service name."""
from __future__ import annotations

from . import autoscaling, clb, cvm, ecm, tdmq
from .common import ActionSpec, Ctx, ServiceSpec

SERVICES: dict[str, ServiceSpec] = {s.name: s for s in (cvm.SERVICE, clb.SERVICE, ecm.SERVICE, autoscaling.SERVICE, tdmq.SERVICE)}

__all__ = ["SERVICES", "ActionSpec", "Ctx", "ServiceSpec"]
