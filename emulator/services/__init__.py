"""Registry of emulated services, keyed by the credential-scope service name."""
from __future__ import annotations

from dataclasses import replace

from . import as_hooks, autoscaling, cam, clb, clb_bindings, clb_listeners, cls, cvm, ecm, monitor, scf, tdmq, tdmq_queues, vpc
from .common import ActionSpec, Ctx, ServiceSpec

SERVICES: dict[str, ServiceSpec] = {s.name: s for s in (
    cvm.SERVICE, clb.SERVICE, ecm.SERVICE, tdmq.SERVICE, autoscaling.SERVICE, scf.SERVICE, cam.SERVICE, vpc.SERVICE,
    cls.SERVICE, monitor.SERVICE)}
# Management actions of the operator tool (deploy/), in their own modules on the same estate objects.
SERVICES["tdmq"] = replace(tdmq.SERVICE, actions={**tdmq.SERVICE.actions, **tdmq_queues.ACTIONS})
# Target groups and classic load balancers: bindings beside a listener's own targets.
SERVICES["clb"] = replace(clb.SERVICE, actions={**clb.SERVICE.actions, **clb_bindings.ACTIONS, **clb_listeners.ACTIONS})
SERVICES["as"] = replace(autoscaling.SERVICE, actions={**autoscaling.SERVICE.actions, **as_hooks.ACTIONS})

__all__ = ["SERVICES", "ActionSpec", "Ctx", "ServiceSpec"]
