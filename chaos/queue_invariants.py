"""What must hold after every queue-mode chaos run (issue 15 point 7), and the counts the report prints.

1. nothing lost: every leaving instance is unbound (no binding of any kind left, chaos/holdings.py) and
   each of its own hooks' lifecycle actions completed (CONTINUE), or it is named in a dead letter of the
   function with a machine-readable reason;
2. no serving instance loses a binding of any kind (ins-other001, which shares ins-web00001's IP in another
   VPC, ins-keeper01, which now holds an interface that was another instance's, the forged claims' instances
   and the DETACHING_LB member included), no IP nobody holds loses one, and no binding appears;
3. no foreign hook is completed: another team's lifecycle actions are never set, and no lifecycle
   action is set twice, to ABANDON, or while its instance was still bound;
4. the queue ends empty, or holding only messages inside their visibility timeout;
5. a timer run never raises and never outlives its time limit (a killed worker aside);
6. the runs settle within the runner's bound; the emulator never answered outside the SDK's model.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Dict, List, Set

from .invariants import BUSY, REASON, TASK_STATUS, RunResult, kind_counts, untouched
from .queue_runner import QueueTrace
from .queue_scenario import FOREIGN_HOOK
from .scenario import LIFECYCLE_QUEUE

def check_queue(trace: QueueTrace) -> RunResult:
    sc = trace.scenario
    violations: List[str] = []

    def fail(text: str) -> None:
        violations.append(f"seed {sc.seed}: {text}")

    # -- the function's dead letters ------------------------------------------------------------------
    reasons: Counter = Counter()
    dead_named: Set[str] = set()
    for m in trace.dead_letters:
        try:
            env = json.loads(m["body"])
        except ValueError:
            env = None
        if not isinstance(env, dict) or env.get("kind") != "clb-unbind/dead-letter":
            fail(f"dead-letter message {m['msgId']} is not a clb-unbind dead letter: {m['body'][:200]}")
            continue
        reason = env.get("reason")
        if not isinstance(reason, str) or not REASON.match(reason):
            fail(f"dead letter {m['msgId']} has no machine-readable reason: {reason!r}")
            continue
        reasons[reason] += 1
        dead_named |= {n.get("instanceId") for n in env.get("notices") or [] if isinstance(n, dict)}

    # -- 1. nothing lost ------------------------------------------------------------------------------
    results = trace.lifecycle_results
    outcome: Dict[str, str] = {}
    for iid in sc.leaving:
        own = [a for a in results if a["instanceId"] == iid and a["lifecycleHookId"] in trace.own_hooks]
        unbound = trace.after_by_instance.get(iid) == []
        completed = bool(own) and all(a["result"] == "CONTINUE" for a in own)
        if unbound and completed:
            outcome[iid] = "unbound"
        elif iid in dead_named:
            outcome[iid] = "dead_lettered"
        else:
            outcome[iid] = "lost"
            fail(f"LOST: leaving {iid} is {'unbound' if unbound else 'still bound'}, its own hooks "
                 f"{[(a['lifecycleHookId'], a['result']) for a in own]}, and it is in no dead letter")

    # -- 2. no serving instance loses a binding -------------------------------------------------------
    leaving = set(sc.leaving)
    wrong = untouched(trace.before, trace.after, trace.kinds, leaving, fail, who="was serving")

    # -- 3. lifecycle actions: no foreign hook, none twice, none while bound ---------------------------
    foreign = 0
    for a in results:
        if a["lifecycleHookId"] not in trace.own_hooks and a["result"] is not None:
            foreign += 1
            fail(f"FOREIGN COMPLETION: {a['lifecycleHookId']} of {a['instanceId']} was set to {a['result']}")
    for c in trace.completions:
        if c.hook_id == FOREIGN_HOOK and not any(a["lifecycleHookId"] == FOREIGN_HOOK and a["result"] for a in results):
            foreign += 1
            fail(f"FOREIGN COMPLETION observed: {c.hook_id} of {c.instance_id}")
        if c.result != "CONTINUE":
            fail(f"lifecycle action {c.hook_id} of {c.instance_id} was set to {c.result}")
        if c.bound:
            fail(f"lifecycle action {c.hook_id} of {c.instance_id} completed while it was still bound: {c.bound}")
    for (hook, tok), n in Counter((c.hook_id, c.token) for c in trace.completions).items():
        if n > 1:
            fail(f"lifecycle action {hook}/{tok} was set {n} times")

    # -- 4. the queue ends empty or holds only messages inside their visibility timeout ----------------
    for m in trace.queue_left:
        if m["state"] != "inFlight":
            fail(f"the queue ends holding message {m['msgId']} {m['state']}: {m['body'][:160]}")

    # -- 5, 6. timer runs, the loop, the emulator ------------------------------------------------------
    limit = sc.time_limit_ms / 1000.0
    for run in trace.runs:
        if run.error:
            fail(f"a timer run ({run.how}) failed: {run.error[:1500]}")
        if run.how in ("in_process", "overlap") and run.seconds > limit:
            fail(f"a timer run ({run.how}) took {run.seconds:.2f}s, over its {limit:g}s time limit")
    if not trace.settled:
        fail(f"the runs did not settle in {len(trace.runs)} timer runs: queue {[m['state'] for m in trace.queue_left]}")
    if trace.crash:
        fail(f"the chaos runner failed: {trace.crash}")

    counts: Counter = Counter()
    for c in trace.calls:
        code = c.error_code or ""
        message = ((c.response or {}).get("Error") or {}).get("Message", "") if isinstance(c.response, dict) else ""
        if str(message).startswith("emulator bug") or str((c.response or {}).get("message", "")).startswith("emulator bug"):
            fail(f"emulator reply of {c.service}:{c.action} does not fit the SDK model: {message}")
        counts["errors"] += code == "InternalError"
        counts["dropped"] += bool(c.dropped)
        counts["busy"] += code in BUSY
        counts["rate_limited"] += code == "RequestLimitExceeded"
        counts["task_failed"] += c.action in TASK_STATUS and code == "" and (c.response or {}).get("Status") == 1
        if c.service == "cmq":
            counts["receive_faults"] += c.action == "BatchReceiveMessage" and code in ("6000", "4420")
            counts["delete_faults"] += c.action == "BatchDeleteMessage" and code in ("6000", "4420")
            errors = (c.response or {}).get("errorList") or []
            counts["stale_deletes"] += (code == "4430") * len([k for k in c.params if k.startswith("receiptHandle.")]) \
                + sum(1 for e in errors if isinstance(e, dict) and e.get("code") == 4430)
        if c.service == "tdmq" and c.action == "SendCmqMsg" and not code and c.params.get("QueueName") == LIFECYCLE_QUEUE \
                and "clb-unbind/retry" in str(c.params.get("MsgContent", "")):
            counts["retries"] += 1

    counts.update(kind_counts(trace.before, trace.after, trace.kinds, leaving))
    outcomes = Counter(outcome.values())
    counts.update({
        "runs": 1,
        "queue_runs": 1,
        "invocations": len(trace.runs),
        "timer_runs": len(trace.runs),
        "killed": sum(1 for r in trace.runs if r.how == "killed"),
        "overlaps": sum(1 for r in sc.rounds if r.kind == "overlap"),
        "raised": sum(1 for r in trace.runs if r.error),
        "dead_letters": len(trace.dead_letters),
        "queue_dead": len(trace.queue_dead),
        "leaving": len(sc.leaving),
        "unbound": outcomes["unbound"],
        "dead_lettered": outcomes["dead_lettered"],
        "lost": outcomes["lost"],
        "wrong_unbinds": wrong,
        "foreign_completions": foreign,
        "forged": sum(1 for i in sc.injected if i.kind not in ("junk", "launching")) + len(sc.wrong_hook),
        "junk": sum(1 for i in sc.injected if i.kind in ("junk", "launching")),
        "violations": len(violations),
    })
    return RunResult(sc.seed, f"q-{sc.label}", dict(counts), reasons, violations, trace.seconds, sc.describe(), trace.logs, outcome)
