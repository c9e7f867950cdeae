"""Registry of emulated services, keyed by the credential-scope service name."""
from __future__ import annotations

from . import autoscaling, cam, clb, cvm, ecm, scf, tdmq
from .common import ActionSpec, Ctx, ServiceSpec

SERVICES: dict[str, ServiceSpec] = {s.name: s for s in (cvm.SERVICE, clb.SERVICE, ecm.SERVICE, autoscaling.SERVICE, tdmq.SERVICE,
                                                     scf.SERVICE, cam.SERVICE)}

__all__ = ["SERVICES", "ActionSpec", "Ctx", "ServiceSpec"]
