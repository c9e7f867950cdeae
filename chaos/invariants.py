"""What must hold after every chaos run, and the counts the report prints.

Invariants (each failure message starts with the seed, so `python -m chaos --runs 1 --seed N` replays it):

1. nothing lost: every leaving instance is unbound (no binding of any kind is left: a listener's or rule's
   target on any IP of any of its network interfaces, a target-group membership, a classic load balancer
   backend; chaos/holdings.py), or named in a dead-letter message with a
   machine-readable reason, or named by an event SCF's own dead-letter queue kept; every lifecycle
   action whose TERMINATING message was delivered is completed (CONTINUE), or dead-lettered with
   that lifecycle action, or kept by SCF;
2. nothing else touched: every binding of every kind of every instance that is not leaving (ins-other001,
   which shares ins-web00001's IP in another VPC, included; ins-keeper01, which now holds an interface and
   IP that were another instance's) and of every IP nobody holds (a detached interface's) is exactly as
   before, weight included, and no binding appeared;
3. lifecycle actions: none set twice, none set to ABANDON, none set to CONTINUE while its instance
   was still bound (at that moment, observed in the emulator, or at the end);
4. refused input: every malformed record and every unknown instance id ends in a dead letter (or
   with SCF), never in endless retries;
5. no uncaught exception from the handler while the queue is reachable, and never any exception
   but `UnfinishedWork`; every answer accounts for every record of its event; no invocation runs
   past its `time_limit_in_ms` (SCF would kill it before it queued anything);
6. attempts: every retry envelope asks for exactly one more attempt than the message it came from,
   never more than CLB_UNBIND_MAX_ATTEMPTS; dead letters never name a later attempt either;
7. retries and dead letters never widen: every instance in an envelope was named by the record it
   came from (for a retry record: by its envelope);
8. the retry queue drains within the runner's bounds; the emulator never answered with a reply
   that does not fit the SDK's model.
"""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from .runner import Trace

REASON = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
BUSY = ("FailedOperation.ResourceInOperating", "FailedOperation.OperationConflict")
TASK_STATUS = ("DescribeTaskStatus", "DescribeLoadBalanceTaskStatus")
RECORD_STATUSES = {"done", "ignored", "refused", "retry_queued", "dead_lettered"}
"""How a record may end in an answer; one that ended several ways joins them with `+` (finish.py, `_mark`:
"retry_queued+dead_lettered", or "dead_lettered+dead_lettered" for two dead letters with two reasons).
Not "failed": work neither done nor queued must make the invocation raise."""


def record_status_ok(status: Any) -> bool:
    return isinstance(status, str) and all(part in RECORD_STATUSES for part in status.split("+"))

COUNTS = (
    "runs", "invocations", "raised", "errors", "dropped", "busy", "task_failed", "rate_limited", "retries",
    "dead_letters", "leaving", "unbound", "dead_lettered", "scf_kept", "lost", "wrong_unbinds", "violations",
)


def kind_counts(before: Dict[Tuple, int], after: Dict[Tuple, int], kinds: Dict[Tuple, str], leaving: Set[str]) -> Counter:
    """Per kind of binding: `removed_<kind>` (a leaving instance's binding gone) and `kept_<kind>` (everyone else's
    binding still there), for the report."""
    out: Counter = Counter()
    for key in before:
        kind = kinds.get(key, "direct")
        if key[5] in leaving:
            out[f"removed_{kind}"] += key not in after
        else:
            out[f"kept_{kind}"] += key in after
    return out


def untouched(before: Dict[Tuple, int], after: Dict[Tuple, int], kinds: Dict[Tuple, str], leaving: Set[str],
              fail: Callable[[str], None], who: str = "was not leaving") -> int:
    """Check that no binding of anyone but the leaving instances was removed, reweighted or added; the number wrong."""
    wrong = 0
    for key, weight in before.items():
        owner = key[5]
        if owner in leaving:
            continue
        kind = kinds.get(key, "direct")
        if key not in after:
            wrong += 1
            fail(f"WRONG UNBIND: {owner or key[3] + ' (held by no instance)'} lost its {kind} binding "
                 f"{key[0]}/{key[1]}/{key[2] or '-'} {key[3]}:{key[4]} but {who}")
        elif after[key] != weight:
            wrong += 1
            fail(f"WRONG CHANGE: weight of {owner or key[3]} on {kind} {key[0]}/{key[1]} {key[3]}:{key[4]} went {weight} -> {after[key]}")
    for key in set(after) - set(before):
        wrong += 1
        fail(f"target appeared: {key}")
    return wrong


@dataclass
class RunResult:
    seed: int
    label: str
    counts: Dict[str, int]
    reasons: Counter
    violations: List[str]
    seconds: float
    description: str = ""
    logs: str = ""
    outcome: Dict[str, str] = field(default_factory=dict)
    """Leaving instance → unbound | dead_lettered | scf_kept | lost."""

    @property
    def ok(self) -> bool:
        return not self.violations


def _json(text: str) -> Optional[Dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _same_payload(a: Optional[str], b: str) -> bool:
    if a is None:
        return False
    if a == b:
        return True
    try:
        return json.loads(a) == json.loads(b)
    except ValueError:
        return False


def _notice_ids(envelope: Dict[str, Any]) -> List[str]:
    return [n.get("instanceId") for n in envelope.get("notices") or [] if isinstance(n, dict)]


def _activity_ids(envelope: Dict[str, Any]) -> List[str]:
    """SCALE_IN activities an envelope carries whose instances could not be read yet."""
    return [a.get("activityId") for a in envelope.get("activities") or [] if isinstance(a, dict)]


def _covered(envelope: Dict[str, Any], activity_instances: Dict[str, Set[str]]) -> Set[str]:
    """Instances an envelope stands for: its notices, and the instances of the activities it carries."""
    out = set(_notice_ids(envelope))
    for aid in _activity_ids(envelope):
        out |= activity_instances.get(aid, set())
    return out


def check(trace: Trace) -> RunResult:
    sc = trace.scenario
    seed = sc.seed
    violations: List[str] = []

    def fail(text: str) -> None:
        violations.append(f"seed {seed}: {text}")

    leaving = sc.leaving
    records = sc.records
    activity_instances = {a["activityId"]: {i["instanceId"] for i in a.get("relatedInstances", [])}
                          for a in sc.estate.get("activities", [])}

    # -- the envelopes the function wrote -----------------------------------------------------------
    retries = [(m, _json(m["body"])) for m in trace.retry_messages]
    dead = [(m, _json(m["body"])) for m in trace.dead_letters]
    reasons: Counter = Counter()
    dead_named: Set[str] = set()
    dead_lifecycle: Set[Tuple[str, Optional[str]]] = set()
    for m, env in dead:
        if env is None or env.get("kind") != "clb-unbind/dead-letter":
            fail(f"dead-letter message {m['msgId']} is not a clb-unbind dead letter: {m['body'][:200]}")
            continue
        reason = env.get("reason")
        if not isinstance(reason, str) or not REASON.match(reason):
            fail(f"dead letter {m['msgId']} has no machine-readable reason: {reason!r}")
            continue
        reasons[reason] += 1
        if env.get("dryRun"):
            fail(f"dead letter {m['msgId']} was sent for a dry run")
        dead_named |= _covered(env, activity_instances)
        for n in env.get("notices") or []:
            life = n.get("lifecycle")
            if isinstance(life, dict):
                dead_lifecycle.add((n.get("instanceId"), life.get("token")))

    # -- what SCF's own dead-letter queue kept ------------------------------------------------------
    by_msg = {m["msgId"]: env for m, env in retries}
    kept_named: Set[str] = set()
    kept_records: List[Any] = []
    for inv in trace.scf_kept:
        for r in inv.records:
            kept_named |= set(r.names)
            kept_records.append(r)
        for mid in inv.retry_msg_ids:
            kept_named |= _covered(by_msg.get(mid) or {}, activity_instances)

    # -- 1. nothing lost ---------------------------------------------------------------------------
    outcome: Dict[str, str] = {}
    for iid in sorted(leaving):
        if trace.after_by_instance.get(iid) == []:
            outcome[iid] = "unbound"
        elif iid in dead_named:
            outcome[iid] = "dead_lettered"
        elif iid in kept_named:
            outcome[iid] = "scf_kept"
        else:
            outcome[iid] = "lost"
            fail(f"LOST: {iid} is still bound ({_left(trace.after_by_instance.get(iid))}), "
                 "named in no dead letter, and no event naming it was kept by SCF")
    lost_lifecycles = 0
    results = trace.lifecycle_results
    known = set(trace.before_by_instance)
    delivered: Set[Tuple[str, Optional[str]]] = {t for r in records if r.wet and r.malformed is None for t in r.tokens if t[0] in known}
    for iid, tok in sorted(delivered, key=str):
        match = [a for a in results if (a["token"] == tok if tok else a["instanceId"] == iid)]
        if any(a["result"] == "CONTINUE" for a in match):
            continue
        if any(d_iid == iid and (tok is None or d_tok == tok) for d_iid, d_tok in dead_lifecycle) or iid in kept_named:
            continue
        lost_lifecycles += 1
        fail(f"LOST lifecycle action: {iid} (token {tok}) was delivered, is {[a['result'] for a in match]}, "
             "and is in no dead letter and no SCF-kept event")

    # -- 2. nothing else touched -------------------------------------------------------------------
    wrong = untouched(trace.before, trace.after, trace.kinds, leaving, fail)
    for iid, before in trace.before_by_instance.items():
        if iid not in leaving and trace.after_by_instance.get(iid) != before:
            fail(f"bindings of {iid}, which was not leaving, changed: {before} -> {trace.after_by_instance.get(iid)}")

    # -- 3. lifecycle actions ----------------------------------------------------------------------
    per_action = Counter((c.hook_id, c.token) for c in trace.completions)
    for (hook, tok), n in per_action.items():
        if n > 1:
            fail(f"lifecycle action {hook}/{tok} was set {n} times")
    for c in trace.completions:
        if c.result != "CONTINUE":
            fail(f"lifecycle action of {c.instance_id} was set to {c.result}")
        if c.bound:
            fail(f"lifecycle action of {c.instance_id} completed ({c.result}) while it was still bound: {c.bound}")
    for a in results:
        if a["result"] == "CONTINUE" and trace.after_by_instance.get(a["instanceId"]):
            fail(f"lifecycle action of {a['instanceId']} is CONTINUE but the instance is still bound at the end")

    # -- 4. refused input ends in a dead letter (refused records of one event share one dead letter) ------------------------------------------------------
    for r in records:
        if r.malformed is None:
            continue
        if any(env and (r.dead_reason is None or env.get("reason") == r.dead_reason)
               and any(_same_payload(o, r.malformed) for o in _originals(env)) for _, env in dead):
            continue
        if r in kept_records:
            continue
        fail(f"record {r.record_id} ({r.malformed[:80]!r}) was not dead-lettered{' as ' + r.dead_reason if r.dead_reason else ''} "
             "with its payload")
    for iid in sorted(sc.unknown):
        if iid not in dead_named and iid not in kept_named:
            fail(f"unknown instance {iid} was not dead-lettered")

    # -- 5. exceptions and answers -----------------------------------------------------------------
    limit = sc.time_limit_ms / 1000.0
    for inv in trace.invocations:
        if inv.seconds > limit:
            fail(f"an invocation ({inv.origin} event) took {inv.seconds:.2f}s, over its {limit:g}s time limit: "
                 "SCF would have killed it before it could queue or answer anything")
        if inv.error_type is not None:
            if inv.error_type != "UnfinishedWork":
                fail(f"handler crashed ({inv.origin} event): {inv.error}")
            elif not sc.queue_faulted:
                fail(f"handler raised while the queue was reachable ({inv.origin} event): {inv.error}")
            continue
        answer = inv.answer or {}
        got = answer.get("records")
        expected = len(inv.event.get("Records") or [None])
        if not isinstance(got, list) or len(got) != expected:
            fail(f"answer accounts for {len(got) if isinstance(got, list) else got} record(s) of {expected}: {str(answer)[:300]}")
            continue
        for rec in got:
            if not record_status_ok(rec.get("status")):
                fail(f"record {rec.get('recordId')} ended {rec.get('status')!r} ({rec.get('reason')}) in an answer")

    # -- 6, 7. attempts and widening ---------------------------------------------------------------
    named: Dict[str, Set[str]] = {}
    for r in records:
        named.setdefault(r.record_id, set()).update(r.names)
    attempt_of: Dict[str, int] = {}
    for m, env in retries:
        if env is None or env.get("kind") != "clb-unbind/retry":
            fail(f"retry message {m['msgId']} is not a clb-unbind retry envelope: {m['body'][:200]}")
            continue
        named[m["msgId"]] = _covered(env, activity_instances)  # a retried activity is expanded under the retry's record id
        attempt_of[m["msgId"]] = env.get("attempt")
    named_activities = {a for r in records for a in r.activities}
    for kind, envelopes in (("retry", retries), ("dead letter", dead)):
        for m, env in envelopes:
            if env is None:
                continue
            attempt = env.get("attempt")
            if not isinstance(attempt, int) or attempt > sc.max_attempts:
                fail(f"{kind} {m['msgId']} is for attempt {attempt!r}; CLB_UNBIND_MAX_ATTEMPTS is {sc.max_attempts}")
            notices = env.get("notices") or []
            if kind == "retry" and not notices and not _activity_ids(env):
                fail(f"retry {m['msgId']} names no instance and no scaling activity")
            stray = set(_activity_ids(env)) - named_activities
            if stray:
                fail(f"{kind} {m['msgId']} carries scaling activities no event named: {sorted(map(str, stray))}")
            parents = {n.get("recordId") for n in notices}
            if len(parents) > 1:
                fail(f"{kind} {m['msgId']} mixes notices of records {sorted(map(str, parents))}")
            for parent in parents:
                allowed = named.get(parent)
                ids = {n.get("instanceId") for n in notices if n.get("recordId") == parent}
                if allowed is None:
                    fail(f"{kind} {m['msgId']} names record {parent!r}, which no event carried")
                elif not ids <= allowed:
                    fail(f"{kind} {m['msgId']} widened record {parent}: {sorted(ids - allowed)} were never named by it")
                if kind == "retry" and isinstance(attempt, int):
                    expected_attempt = attempt_of.get(parent, 1) + 1
                    if attempt != expected_attempt:
                        fail(f"retry {m['msgId']} asks for attempt {attempt}, but its parent {parent} was attempt {expected_attempt - 1}")
            if env.get("dryRun"):
                fail(f"{kind} {m['msgId']} was sent for a dry run")

    # -- 8. the loop itself, and the emulator --------------------------------------------------------
    if not trace.drained:
        fail(f"the retry queue did not drain: {len(trace.retry_messages)} retries in {trace.rounds} rounds, "
             f"{len(trace.invocations)} invocations")
    if trace.crash:
        fail(f"the chaos runner failed: {trace.crash}")
    counts = Counter()
    for c in trace.calls:
        code = c.error_code or ""
        message = ((c.response or {}).get("Error") or {}).get("Message", "") if isinstance(c.response, dict) else ""
        if code == "InternalError" and str(message).startswith("emulator bug"):
            fail(f"emulator reply of {c.service}:{c.action} does not fit the SDK model: {message}")
        counts["errors"] += code == "InternalError"
        counts["dropped"] += bool(c.dropped)
        counts["busy"] += code in BUSY
        counts["rate_limited"] += code == "RequestLimitExceeded"
        counts["task_failed"] += c.action in TASK_STATUS and code == "" and (c.response or {}).get("Status") == 1

    outcomes = Counter(outcome.values())
    counts.update({
        "runs": 1,
        "invocations": len(trace.invocations),
        "raised": sum(1 for inv in trace.invocations if inv.error_type is not None),
        "retries": len(trace.retry_messages),
        "dead_letters": len(trace.dead_letters),
        "leaving": len(leaving),
        "unbound": outcomes["unbound"],
        "dead_lettered": outcomes["dead_lettered"],
        "scf_kept": outcomes["scf_kept"],
        "lost": outcomes["lost"] + lost_lifecycles,
        "wrong_unbinds": wrong,
        "violations": len(violations),
    })
    counts["scf_kept_events"] = len(trace.scf_kept)
    counts.update(kind_counts(trace.before, trace.after, trace.kinds, leaving))
    return RunResult(seed, sc.label, dict(counts), reasons, violations, trace.seconds, sc.describe(), trace.logs, outcome)


def _left(bindings: Optional[List[Tuple]]) -> str:
    """`2 binding(s): lbtg-kindv101/target-group 10.0.5.21:80, ...` (at most 4 named)."""
    items = bindings or []
    named = ", ".join(f"{b[0]}/{b[1]} {b[3]}:{b[4]}" for b in items[:4])
    return f"{len(items)} binding(s){': ' + named if named else ''}{', ...' if len(items) > 4 else ''}"


def _originals(env: Dict[str, Any]) -> List[Any]:
    """The payloads a dead letter carries: its own original, and each refused record's."""
    return [env.get("original"), *[r.get("original") for r in env.get("refused") or [] if isinstance(r, dict)]]
