"""`check --cmq-endpoint`: the function must read its queue where the operator says it lives.

The function's data-plane address is its own setting (handler ``config.Settings.cmq_base_url``:
``CLB_UNBIND_CMQ_ENDPOINT``, else the region's row of ``cloud/cmq_regions.py``); docs/regions.md.
"""
from __future__ import annotations

from dataclasses import replace
from typing import List

from . import current
from .cloud import Cloud
from .function_settings import function_settings
from .invariants import Finding


def effective_endpoint(env: dict, region: str) -> str:
    """Where the function with this environment reads its queue ('' when it cannot tell)."""
    try:
        return str(function_settings({**env, "TENCENTCLOUD_REGION": region}).cmq_base_url)
    except ValueError:
        return ""


def endpoint_finding(cloud: Cloud, function: str, namespace: str, wanted: str, findings: List[Finding]) -> List[Finding]:
    """The ``function`` finding, violated when the function reads its queue elsewhere than ``wanted``."""
    fn = current.function(cloud, function, namespace)
    if fn is None:
        return findings
    env = current.environment(fn)
    env.pop("CLB_UNBIND_ENDPOINT", None)  # the emulator's override is the tool's, not the function's
    have = effective_endpoint(env, cloud.region)
    if have.rstrip("/") == wanted.rstrip("/"):
        return [replace(f, detail=f"{f.detail}; CMQ data plane {wanted}") if f.invariant == "function" else f
                for f in findings]
    problem = f"the function reads its queue at {have or '(no known address)'}, not {wanted}"
    out = []
    for f in findings:
        if f.invariant == "function":
            detail = problem if f.ok else f"{f.detail}; {problem}"
            f = replace(f, ok=False, detail=detail, fix=f"run `make setup CMQ_ENDPOINT={wanted}` (sets CLB_UNBIND_CMQ_ENDPOINT)")
        out.append(f)
    return out
