"""What a deployment should be, from the operator's inputs and the derived numbers (no I/O but
reading the package zip; the run role's policy is deploy/permissions.py's, filled in for the region
and the queues).

Fixed parts and their sources:
* runtime ``Python3.10`` (SDK scf ``CreateFunctionRequest.Runtime`` lists it; the runtime cannot be
  changed after creation: ``UpdateFunctionConfigurationRequest.Runtime`` "创建时指定，目前不支持修改"),
  handler ``index.main_handler`` (docs/design.md#entry-point);
* the run role's trust policy: CAM role documents use ``"action": "name/sts:AssumeRole"`` with a
  ``principal`` (SDK cam ``CreateRoleRequest.PolicyDocument`` example), and SCF's service principal is
  ``scf.qcloud.com`` (serverless-components/tencent-cam-role README: ``service: scf.qcloud.com``);
* the function's ``Description`` carries the package's SHA-256, because ``GetFunction`` returns no code
  hash (only ``CodeSize``); Description allows letters, digits, spaces, commas and full stops
  (``CreateFunctionRequest.Description``), so the text uses nothing else.
"""
from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

from .numbers import Derived, Timings, derive
from .permissions import document as policy_document

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dist" / "clb-unbind.zip"
CAM_POLICY = ROOT / "cam-policy.json"

RUNTIME = "Python3.10"
HANDLER = "index.main_handler"
SCF_PRINCIPAL = "scf.qcloud.com"
TRIGGER_QUALIFIER = "live"
"""The alias the timer fires; setup points it at the package's version (deploy/release.py)."""
GROUP_ID = re.compile(r"^asg-[a-z0-9]{8}$")
TRANSITION_TYPES = ("NORMAL", "EXTENSION")
"""autoscaling CreateLifecycleHookRequest.LifecycleTransitionType: "取值范围包括 NORMAL 和 EXTENSION，默认值为 NORMAL"."""
DESCRIPTION_PREFIX = "Unbinds leaving instances from load balancers. Package sha256 "


def trust_document() -> Dict[str, object]:
    return {"version": "2.0", "statement": [{"action": "name/sts:AssumeRole", "effect": "allow",
                                             "principal": {"service": [SCF_PRINCIPAL]}}]}


def package_sha(description: Optional[str]) -> Optional[str]:
    """The package hash a function's Description records, if any."""
    match = re.search(r"sha256 ([0-9a-f]{64})", description or "")
    return match.group(1) if match else None


@dataclass(frozen=True)
class Inputs:
    groups: Tuple[str, ...]
    region: str = "ap-guangzhou"
    function: str = "clb-unbind"
    namespace: str = "default"
    queue: str = "clb-unbind-lifecycle"
    dead_letter_queue: str = "clb-unbind-dead-letter"
    role: str = "clb-unbind-role"
    policy: str = "clb-unbind-policy"
    hook_name: str = "clb-unbind-terminating"
    trigger_name: str = "clb-unbind-consumer"
    package: Path = PACKAGE
    memory: int = 128
    cmq_endpoint: Optional[str] = None
    timings: Timings = field(default_factory=Timings)
    transition: str = "NORMAL"
    """The hooks' LifecycleTransitionType: NORMAL, or EXTENSION to hear of manual removals too (docs/lifecycle-hooks.md)."""
    version: Optional[str] = None
    """A published version the alias must point at (setup --version); None: the package's own."""


@dataclass(frozen=True)
class QueueSpec:
    name: str
    attributes: Dict[str, object]


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    namespace: str
    runtime: str
    handler: str
    timeout: int
    memory: int
    role: str
    environment: Dict[str, str]
    description: str
    code_sha: str
    zip_base64: str = field(repr=False)


@dataclass(frozen=True)
class HookSpec:
    group: str
    name: str
    heartbeat: int
    queue: str
    transition: str = "INSTANCE_TERMINATING"
    default_result: str = "CONTINUE"
    transition_type: str = "NORMAL"


@dataclass(frozen=True)
class Desired:
    inputs: Inputs
    derived: Derived
    dead_letter_queue: QueueSpec
    queue: QueueSpec
    role: str
    trust: Dict[str, object]
    policy: str
    policy_document: Dict[str, object]
    function: FunctionSpec
    trigger_name: str
    cron: str
    async_retry_num: int
    async_msg_ttl: int
    hooks: Tuple[HookSpec, ...]


def _fmt(value: float) -> str:
    return f"{value:g}"


def environment(inputs: Inputs) -> Dict[str, str]:
    """The variables setup owns; any other variable on the function (an API secret set in the console)
    is kept as it is."""
    t = inputs.timings
    env = {
        "CLB_UNBIND_QUEUE": inputs.queue,
        "CLB_UNBIND_DEAD_LETTER_QUEUE": inputs.dead_letter_queue,
        "CLB_UNBIND_GROUPS": ",".join(sorted(set(inputs.groups))),
        "CLB_UNBIND_MAX_ATTEMPTS": str(t.max_attempts),
        "CLB_UNBIND_CONSUME_SECONDS": _fmt(t.consume_seconds),
        "CLB_UNBIND_POLL_SECONDS": _fmt(t.poll_seconds),
        "CLB_UNBIND_RETRY_BASE_SECONDS": _fmt(t.retry_base_seconds),
        "CLB_UNBIND_RETRY_MAX_SECONDS": _fmt(t.retry_max_seconds),
    }
    if inputs.cmq_endpoint:
        env["CLB_UNBIND_CMQ_ENDPOINT"] = inputs.cmq_endpoint
    return env


def desired(inputs: Inputs) -> Desired:
    """Raises ``FileNotFoundError`` without a package, :class:`~deploy.numbers.DerivationError` for
    timings that would lose notifications, ``ValueError`` for a malformed group id."""
    bad = [g for g in inputs.groups if not GROUP_ID.match(g)]
    if bad or not inputs.groups:
        raise ValueError(f"scaling group ids look like asg-xxxxxxxx; got {list(inputs.groups) or 'none'}")
    derived = derive(inputs.timings, inputs.dead_letter_queue)
    if not inputs.package.is_file():
        raise FileNotFoundError(f"no package at {inputs.package}: run `make package` first")
    data = inputs.package.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    function = FunctionSpec(
        name=inputs.function, namespace=inputs.namespace, runtime=RUNTIME, handler=HANDLER,
        timeout=inputs.timings.function_timeout, memory=inputs.memory, role=inputs.role,
        environment=environment(inputs), description=DESCRIPTION_PREFIX + sha, code_sha=sha,
        zip_base64=base64.b64encode(data).decode("ascii"),
    )
    queue_attrs = {k: v.value for k, v in derived.queue.items()}
    dlq_attrs = {k: v.value for k, v in derived.dead_letter_queue.items()}
    if inputs.transition not in TRANSITION_TYPES:
        raise ValueError(f"the hook transition type is NORMAL or EXTENSION; got {inputs.transition!r}")
    hooks = tuple(HookSpec(g, inputs.hook_name, int(derived.heartbeat.value), inputs.queue, transition_type=inputs.transition)
                  for g in sorted(set(inputs.groups)))
    return Desired(
        inputs=inputs, derived=derived,
        dead_letter_queue=QueueSpec(inputs.dead_letter_queue, dlq_attrs),
        queue=QueueSpec(inputs.queue, queue_attrs),
        role=inputs.role, trust=trust_document(), policy=inputs.policy,
        policy_document=policy_document(inputs.region, inputs.queue, inputs.dead_letter_queue),
        function=function, trigger_name=inputs.trigger_name, cron=str(derived.timer_cron.value),
        async_retry_num=int(derived.async_invoke["RetryNum"].value),
        async_msg_ttl=int(derived.async_invoke["MsgTTL"].value),
        hooks=hooks,
    )
