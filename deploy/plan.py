"""The diff: live state against the desired one, as steps that each say create, update or unchanged,
what differs, and the write calls that would make it so. Only reads happen here.

Write calls and their shapes (SDK models):
* tdmq ``CreateCmqQueue`` / ``ModifyCmqQueueAttribute``: ``QueueName``, ``VisibilityTimeout``,
  ``MsgRetentionSeconds``, ``DeadLetterQueueName``, ``Policy``, ``MaxReceiveCount``; the live values
  come from ``DescribeCmqQueueDetail.QueueDescribe`` (``DeadLetterPolicy.DeadLetterQueue`` is taken to
  be the queue's name: UNCONFIRMED, the model says only "死信队列").
* cam ``CreateRole`` / ``UpdateAssumeRolePolicy`` (trust), ``CreatePolicy`` / ``UpdatePolicy``
  (``PolicyId`` + ``PolicyDocument``), ``AttachRolePolicy`` (``PolicyId`` + ``AttachRoleName``),
  ``DetachRolePolicy`` (``PolicyId`` + ``DetachRoleName``): the role holds exactly one policy.
  Documents are compared after normalising (CAM may store them re-serialised: UNCONFIRMED how).
* scf ``CreateFunction`` (``Code.ZipFile`` base64), ``UpdateFunctionCode`` (``ZipFile``, ``Handler``),
  ``UpdateFunctionConfiguration`` (only what differs; ``Environment`` whole, as the API takes it),
  ``CreateTrigger`` / ``UpdateTrigger`` (``Type`` timer, ``TriggerDesc`` the cron, ``Enable`` OPEN;
  ``ListTriggers`` answers ``Enable`` 1/0 and ``TriggerDesc`` ``{"cron": ...}``, as
  serverless-tencent/tencent-component-toolkit ``src/modules/triggers/timer.ts`` notes),
  ``UpdateFunctionEventInvokeConfig`` (``AsyncTriggerConfig.RetryConfig[].RetryNum``, ``MsgTTL``).
* as ``CreateLifecycleHook`` / ``ModifyLifecycleHook`` (``LifecycleHookId`` + what differs).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import current
from .cloud import Cloud
from .dangers import ENVELOPE_SECRET, envelope_secret_ok, new_envelope_secret
from .desired import TRIGGER_QUALIFIER, Desired, HookSpec, QueueSpec, package_sha

Json = Dict[str, Any]
ROLE_DESCRIPTION = "Run role of the clb-unbind function"
POLICY_DESCRIPTION = "Actions the clb-unbind function calls"
"""Setup writes these descriptions; teardown deletes a role or policy only when it carries setup's."""


class PlanError(Exception):
    """The live state is one setup must not or cannot change; the message says what to do."""


@dataclass(frozen=True)
class Ref:
    """A value known only once an earlier write answered (a new policy's id)."""

    name: str


@dataclass
class Write:
    service: str
    action: str
    params: Json
    saves: Optional[Tuple[str, str]] = None
    """(reply field, context name) to keep for later writes."""
    waits_for_function: bool = False


@dataclass
class Step:
    resource: str
    kind: str
    changes: List[str] = field(default_factory=list)
    writes: List[Write] = field(default_factory=list)


def _diff(current_values: Json, wanted: Json) -> Dict[str, Tuple[Any, Any]]:
    return {k: (current_values.get(k), v) for k, v in wanted.items() if current_values.get(k) != v}


def _changes(diff: Dict[str, Tuple[Any, Any]]) -> List[str]:
    return [f"{k}: {old!r} -> {new!r}" for k, (old, new) in diff.items()]


def _step(resource: str, exists: bool, diff: Dict[str, Tuple[Any, Any]], writes: List[Write]) -> Step:
    if not exists:
        return Step(resource, "create", [f"{k} = {new!r}" for k, (_, new) in diff.items()], writes)
    if not diff:
        return Step(resource, "unchanged")
    return Step(resource, "update", _changes(diff), writes)


# ------------------------------------------------------------------ queues
def queue_attributes(live: Json) -> Json:
    dlp = live.get("DeadLetterPolicy") or {}
    return {"VisibilityTimeout": live.get("VisibilityTimeout"), "MsgRetentionSeconds": live.get("MsgRetentionSeconds"),
            "Policy": dlp.get("Policy"), "MaxReceiveCount": dlp.get("MaxReceiveCount"),
            "DeadLetterQueueName": dlp.get("DeadLetterQueue") or None}


def queue_step(cloud: Cloud, spec: QueueSpec) -> Step:
    live = current.queue(cloud, spec.name)
    diff = _diff(queue_attributes(live) if live else {}, spec.attributes)
    if live is None:
        return _step(f"queue {spec.name}", False, diff,
                     [Write("tdmq", "CreateCmqQueue", {"QueueName": spec.name, **spec.attributes})])
    params: Json = {"QueueName": spec.name, **{k: new for k, (_, new) in diff.items()}}
    dead_letter = ("DeadLetterQueueName", "Policy", "MaxReceiveCount")
    if any(k in diff for k in dead_letter):
        params.update({k: spec.attributes[k] for k in dead_letter if k in spec.attributes})
    return _step(f"queue {spec.name}", True, diff, [Write("tdmq", "ModifyCmqQueueAttribute", params)])


# ------------------------------------------------------------------ role and policy
def normalise_policy(doc: Any) -> Any:
    """A CAM policy document in a canonical form: keys lower-case, single values as lists, lists sorted."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError:
            return doc

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).lower(): norm(v) for k, v in value.items()}
        if isinstance(value, list):
            return sorted((norm(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return value

    out = norm(doc)
    if isinstance(out, dict):
        for statement in out.get("statement") or []:
            for key in ("action", "resource"):
                if isinstance(statement.get(key), str):
                    statement[key] = [statement[key]]
            principal = statement.get("principal")
            if isinstance(principal, dict):
                for k, v in list(principal.items()):
                    if isinstance(v, str):
                        principal[k] = [v]
    return out


def role_steps(cloud: Cloud, d: Desired) -> List[Step]:
    trust = json.dumps(d.trust, separators=(",", ":"))
    document = json.dumps(d.policy_document, separators=(",", ":"))
    steps: List[Step] = []
    live_role = current.role(cloud, d.role)
    if live_role is None:
        steps.append(Step(f"role {d.role}", "create", [f"trusted by {d.trust['statement'][0]['principal']}"],
                          [Write("cam", "CreateRole", {"RoleName": d.role, "PolicyDocument": trust, "ConsoleLogin": 0,
                                                        "Description": ROLE_DESCRIPTION})]))
    elif normalise_policy(live_role.get("PolicyDocument")) != normalise_policy(d.trust):
        steps.append(Step(f"role {d.role}", "update", [f"trust policy -> {trust}"],
                          [Write("cam", "UpdateAssumeRolePolicy", {"RoleName": d.role, "PolicyDocument": trust})]))
    else:
        steps.append(Step(f"role {d.role}", "unchanged"))

    found = current.policy_by_name(cloud, d.policy)
    policy_id: Any
    if found is None:
        policy_id = Ref("policy_id")
        steps.append(Step(f"policy {d.policy}", "create", ["document = cam-policy.json"],
                          [Write("cam", "CreatePolicy", {"PolicyName": d.policy, "PolicyDocument": document,
                                                          "Description": POLICY_DESCRIPTION},
                                 saves=("PolicyId", "policy_id"))]))
    else:
        policy_id = int(found["PolicyId"])
        live_policy = current.policy(cloud, policy_id) or {}
        if normalise_policy(live_policy.get("PolicyDocument")) != normalise_policy(d.policy_document):
            steps.append(Step(f"policy {d.policy}", "update", ["document -> cam-policy.json"],
                              [Write("cam", "UpdatePolicy", {"PolicyId": policy_id, "PolicyDocument": document})]))
        else:
            steps.append(Step(f"policy {d.policy}", "unchanged"))

    attached = current.attached_policies(cloud, d.role) if live_role is not None else []
    writes: List[Write] = []
    changes: List[str] = []
    if not any(isinstance(policy_id, int) and int(p.get("PolicyId", -1)) == policy_id for p in attached):
        writes.append(Write("cam", "AttachRolePolicy", {"PolicyId": policy_id, "AttachRoleName": d.role}))
        changes.append(f"attach {d.policy}")
    for p in attached:
        if not (isinstance(policy_id, int) and int(p.get("PolicyId", -1)) == policy_id):
            writes.append(Write("cam", "DetachRolePolicy", {"PolicyId": int(p["PolicyId"]), "DetachRoleName": d.role}))
            changes.append(f"detach {p.get('PolicyName') or p['PolicyId']} (the role holds exactly cam-policy.json)")
    kind = "unchanged" if not writes else ("create" if not attached and live_role is None else "update")
    steps.append(Step(f"role {d.role} policies", kind, changes, writes))
    return steps


# ------------------------------------------------------------------ function, trigger, async config
SECRET_VARIABLES = (ENVELOPE_SECRET, "CLB_UNBIND_API_SECRET")


def _shown(key: str, value: str) -> str:
    """A variable as the plan prints it: a secret by its length only."""
    return f"(secret, {len(value)} characters)" if key in SECRET_VARIABLES else repr(value)


def _with_secret(wanted: Dict[str, str], live_env: Dict[str, str]) -> Dict[str, str]:
    """The envelope secret is made once (32 random bytes, hex) and kept across runs; one that is
    missing or short is replaced."""
    if envelope_secret_ok(live_env.get(ENVELOPE_SECRET)):
        return wanted
    return {**wanted, ENVELOPE_SECRET: new_envelope_secret()}


def function_step(cloud: Cloud, d: Desired) -> Tuple[Step, bool]:
    """The function's step, and whether the function exists now."""
    f = d.function
    live = current.function(cloud, f.name, f.namespace)
    wanted_env = _with_secret(dict(f.environment), current.environment(live))
    variables = [{"Key": k, "Value": v} for k, v in sorted(wanted_env.items())]
    if live is None:
        params = {"FunctionName": f.name, "Namespace": f.namespace, "Code": {"ZipFile": f.zip_base64}, "CodeSource": "ZipFile",
                  "Handler": f.handler, "Runtime": f.runtime, "Timeout": f.timeout, "MemorySize": f.memory, "Role": f.role,
                  "Description": f.description, "Type": "Event", "Environment": {"Variables": variables}}
        changes = [f"Runtime = {f.runtime}", f"Handler = {f.handler}", f"Timeout = {f.timeout}", f"MemorySize = {f.memory}",
                   f"Role = {f.role}", f"package sha256 {f.code_sha}"] + [f"{k} = {_shown(k, v)}" for k, v in sorted(wanted_env.items())]
        return Step(f"function {f.name}", "create", changes, [Write("scf", "CreateFunction", params, waits_for_function=True)]), False
    if live.get("Runtime") != f.runtime:
        raise PlanError(f"function {f.name} runs {live.get('Runtime')}, not {f.runtime}, and SCF cannot change a runtime: "
                        f"delete the function (its triggers go with it) and run setup again")
    changes: List[str] = []
    writes: List[Write] = []
    live_sha = package_sha(live.get("Description"))
    if live_sha != f.code_sha or live.get("Handler") != f.handler:
        changes.append(f"package sha256 {live_sha or 'unknown'} -> {f.code_sha}")
        if live.get("Handler") != f.handler:
            changes.append(f"Handler: {live.get('Handler')!r} -> {f.handler!r}")
        writes.append(Write("scf", "UpdateFunctionCode", {"FunctionName": f.name, "Namespace": f.namespace, "Handler": f.handler,
                                                           "ZipFile": f.zip_base64, "CodeSource": "ZipFile"},
                            waits_for_function=True))
    config: Json = {}
    for key, want in (("Description", f.description), ("Timeout", f.timeout), ("MemorySize", f.memory), ("Role", f.role)):
        if live.get(key) != want:
            config[key] = want
            if key != "Description":
                changes.append(f"{key}: {live.get(key)!r} -> {want!r}")
    env = current.environment(live)
    env_diff = {k: (env.get(k), v) for k, v in wanted_env.items() if env.get(k) != v}
    if env_diff:
        merged = {**env, **wanted_env}
        config["Environment"] = {"Variables": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]}
        changes += [f"{k}: {_shown(k, old) if old is not None else 'unset'} -> {_shown(k, new)}" for k, (old, new) in env_diff.items()]
    if config:
        writes.append(Write("scf", "UpdateFunctionConfiguration", {"FunctionName": f.name, "Namespace": f.namespace, **config},
                            waits_for_function=True))
    return Step(f"function {f.name}", "update" if writes else "unchanged", changes, writes), True


def cron_of(trigger: Json) -> str:
    desc = trigger.get("TriggerDesc") or ""
    try:
        parsed = json.loads(desc)
    except ValueError:
        return desc.strip()
    return str(parsed.get("cron", "")).strip() if isinstance(parsed, dict) else desc.strip()


def trigger_step(cloud: Cloud, d: Desired, function_exists: bool) -> Step:
    f = d.function
    found = None
    if function_exists:
        found = next((t for t in current.triggers(cloud, f.name, f.namespace)
                      if t.get("Type") == "timer" and t.get("TriggerName") == d.trigger_name), None)
    resource = f"timer trigger {d.trigger_name}"
    create = Write("scf", "CreateTrigger", {"FunctionName": f.name, "Namespace": f.namespace, "TriggerName": d.trigger_name,
                                            "Type": "timer", "TriggerDesc": d.cron, "Qualifier": TRIGGER_QUALIFIER,
                                            "Enable": "OPEN"})
    if found is None:
        return Step(resource, "create", [f"cron = {d.cron!r}", "enabled", f"fires alias {TRIGGER_QUALIFIER}"], [create])
    if (found.get("Qualifier") or "$LATEST") != TRIGGER_QUALIFIER:
        # A trigger's Qualifier is fixed at creation (UpdateTriggerRequest.Qualifier): recreate it on the alias.
        delete = Write("scf", "DeleteTrigger", {"FunctionName": f.name, "Namespace": f.namespace, "TriggerName": d.trigger_name,
                                                "Type": "timer", "Qualifier": found.get("Qualifier") or "$LATEST"})
        return Step(resource, "update", [f"Qualifier: {found.get('Qualifier')!r} -> {TRIGGER_QUALIFIER!r} (deleted and "
                                         f"created again)"], [delete, create])
    diff: Dict[str, Tuple[Any, Any]] = {}
    if cron_of(found) != d.cron:
        diff["cron"] = (cron_of(found), d.cron)
    if int(found.get("Enable") or 0) != 1:
        diff["Enable"] = (found.get("Enable"), "OPEN")
    return _step(resource, True, diff,
                 [Write("scf", "UpdateTrigger", {"FunctionName": f.name, "Namespace": f.namespace, "TriggerName": d.trigger_name,
                                                  "Type": "timer", "TriggerDesc": d.cron, "Enable": "OPEN",
                                                  "Qualifier": found.get("Qualifier") or "$DEFAULT"})])


def async_step(cloud: Cloud, d: Desired, function_exists: bool) -> Step:
    f = d.function
    wanted = {"RetryNum": d.async_retry_num, "MsgTTL": d.async_msg_ttl}
    write = Write("scf", "UpdateFunctionEventInvokeConfig",
                  {"FunctionName": f.name, "Namespace": f.namespace,
                   "AsyncTriggerConfig": {"RetryConfig": [{"RetryNum": d.async_retry_num}], "MsgTTL": d.async_msg_ttl}})
    if not function_exists:
        return _step(f"async invoke config of {f.name}", False, _diff({}, wanted), [write])
    live = current.async_config(cloud, f.name, f.namespace)
    retry = (live.get("RetryConfig") or [{}])[0].get("RetryNum")
    return _step(f"async invoke config of {f.name}", True,
                 _diff({"RetryNum": retry, "MsgTTL": live.get("MsgTTL")}, wanted), [write])


# ------------------------------------------------------------------ hooks
def own_hook(hooks: List[Json], spec: HookSpec) -> Optional[Json]:
    """The group's hook this deployment owns: a terminating hook notifying the queue, else one by our name."""
    for hook in hooks:
        if hook.get("LifecycleTransition") == spec.transition and current.notifies(hook, spec.queue):
            return hook
    return next((h for h in hooks if h.get("LifecycleHookName") == spec.name), None)


def hook_step(cloud: Cloud, spec: HookSpec) -> Step:
    target = {"TargetType": "TDMQ_CMQ_QUEUE", "QueueName": spec.queue}
    wanted = {"LifecycleTransition": spec.transition, "DefaultResult": spec.default_result,
              "HeartbeatTimeout": spec.heartbeat, "NotificationTarget": target, "LifecycleTransitionType": spec.transition_type}
    live = own_hook(current.hooks(cloud, spec.group), spec)
    resource = f"lifecycle hook of {spec.group}"
    if live is None:
        return _step(resource, False, _diff({}, wanted),
                     [Write("as", "CreateLifecycleHook", {"AutoScalingGroupId": spec.group, "LifecycleHookName": spec.name,
                                                          **wanted})])
    live_values = {k: live.get(k) for k in wanted}
    live_values["LifecycleTransitionType"] = live.get("LifecycleTransitionType") or "NORMAL"  # the documented default
    live_target = live.get("NotificationTarget") or {}
    live_values["NotificationTarget"] = {"TargetType": live_target.get("TargetType"), "QueueName": live_target.get("QueueName")}
    diff = _diff(live_values, wanted)
    return _step(f"{resource} ({live.get('LifecycleHookId')})", True, diff,
                 [Write("as", "ModifyLifecycleHook", {"LifecycleHookId": live["LifecycleHookId"],
                                                      **{k: new for k, (_, new) in diff.items()}})])


# ------------------------------------------------------------------ the whole plan
ReleaseSteps = Callable[[Cloud, Desired, bool], List[Step]]


def plan(cloud: Cloud, d: Desired, release: Optional[ReleaseSteps] = None) -> List[Step]:
    """Every step in the order they must be applied: the dead-letter queue before the queue that names
    it, the role and its policy before the function that runs as it, the function before its trigger,
    the queue before the hooks that notify it; with ``release`` (deploy/release.py), the version and the
    alias after the function and before the trigger that fires the alias."""
    missing = sorted(set(h.group for h in d.hooks) - current.existing_groups(cloud, [h.group for h in d.hooks]))
    if missing:
        raise PlanError(f"no such scaling group in {d.inputs.region}: {', '.join(missing)}")
    steps = [queue_step(cloud, d.dead_letter_queue), queue_step(cloud, d.queue)]
    steps += role_steps(cloud, d)
    function, exists = function_step(cloud, d)
    steps.append(function)
    steps += release(cloud, d, exists) if release else []
    steps += [trigger_step(cloud, d, exists), async_step(cloud, d, exists)]
    steps += [hook_step(cloud, h) for h in d.hooks]
    return steps
