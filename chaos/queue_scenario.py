"""Queue mode: one seeded chaos run of timer runs over the emulator's CMQ lifecycle queue.

Push mode (scenario.py) hands the function pushed events. Queue mode drives the path lifecycle hooks
really take: Auto Scaling scales in (the emulator's `scale_in` starts every INSTANCE_TERMINATING hook
of the group and publishes each hook's notification to its queue), and timer runs consume the queue
and sweep the group. Everything is drawn from `random.Random(seed)` before anything runs:

* the world: the demo estate or a variant (estate.py), every CVM of the main VPC but `ins-lonely01`
  and `ins-other001` a member of `asg-group001`, whose hooks are the function's own (they notify
  `CLB_UNBIND_QUEUE`) plus another team's (`FOREIGN_HOOK`, notifying `FOREIGN_QUEUE`);
* who leaves: 1-5 members scaled in, some of their notifications lost (`publish=False`: the sweep
  must find them);
* what else is in the queue: junk, INSTANCE_LAUNCHING, forged INSTANCE_TERMINATING claims (a serving
  member, a standalone instance, a member in DETACHING_LB, another group), the direct-invocation shape,
  an unsigned retry envelope naming a serving instance, and wrong-hook messages (another team's
  notification of a leaving instance, copied into our queue);
* faults: receive and delete failures (`cmq_error_rate` on BatchReceiveMessage / BatchDeleteMessage),
  a visibility timeout short enough to run out mid-pass (with slow replies), the API faults of push
  mode at lower rates, two overlapping timer runs, and a timer run in a worker process killed with
  SIGKILL in the middle of its work.
"""
from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set, Tuple

from . import DEAD_LETTER_QUEUE
from .estate import KINDS_ONLY, STAYING, build_estate, kinds_tags, token
from .scenario import ENVELOPE_SECRET, HANDLER_ACTIONS, LIFECYCLE_QUEUE, LISTENERS_SHOW_GROUPS_RATE

GROUP = "asg-group001"
OTHER_GROUP = "asg-group002"
FOREIGN_HOOK = "ash-backup01"
"""Another team's terminating hook on the same group: the function must never complete it."""
FOREIGN_QUEUE = "other-team-queue"
STANDALONE = "ins-lonely01"
"""A CVM in no scaling group: a forged TERMINATING message for it must not be believed."""
QUEUE_DEAD = f"{LIFECYCLE_QUEUE}-dead"
MAX_RECEIVE_COUNT = 5
CMQ_FAULTS = ("BatchReceiveMessage", "BatchDeleteMessage")

JUNK = (
    "not json at all",
    "{}",
    "[1, 2, 3]",
    json.dumps({"hello": "world"}),
    json.dumps({"Service": "Tencent Cloud Auto Scaling", "AutoScalingGroupId": GROUP}),
)


@dataclass
class Injected:
    """A message the scenario puts in the lifecycle queue besides Auto Scaling's own notifications."""

    kind: str
    """junk | launching | forged_serving | forged_standalone | forged_detaching_lb | forged_other_group |
    direct_shape | unsigned_envelope | wrong_hook"""
    body: str
    names: Tuple[str, ...] = ()
    """The instance the message claims; a wrong-hook message's instance is leaving, every other one's is not."""


@dataclass
class Round:
    kind: str
    """single | overlap (two timer runs at once) | kill (a worker process, SIGKILLed after `kill_after` s)"""
    kill_after: float = 0.0


@dataclass
class QueueScenario:
    seed: int
    estate: Dict[str, Any]
    knobs: Dict[str, Any]
    """Faults, set once the queue is filled."""
    env: Dict[str, str]
    time_limit_ms: int
    leaving: List[str]
    lost_notifications: Set[str]
    """Leaving instances whose notifications Auto Scaling never delivered (only the sweep finds them)."""
    injected: List[Injected]
    wrong_hook: List[str]
    """Leaving instances whose other-team notification is copied into our queue."""
    detaching_lb: Optional[str]
    rounds: List[Round]
    visibility_timeout: int
    label: str = "demo"
    tags: Set[str] = field(default_factory=set)

    @property
    def max_attempts(self) -> int:
        return int(self.env["CLB_UNBIND_MAX_ATTEMPTS"])

    def describe(self) -> str:
        k = self.knobs
        faults = ", ".join(f"{n}={k[n]:.2f}" for n in ("error_rate", "drop_reply_rate", "busy_rate", "cmq_error_rate", "latency_seconds") if k.get(n))
        return (f"seed {self.seed}: queue mode, {self.label} estate, leaving {self.leaving} "
                f"(notification lost: {sorted(self.lost_notifications)}), injected {[i.kind for i in self.injected]}, "
                f"wrong hook {self.wrong_hook}; faults [{faults or 'none'}] cmq on {k.get('cmq_fault_actions')}; "
                f"visibility {self.visibility_timeout}s; rounds {[r.kind for r in self.rounds]}; tags {sorted(self.tags)}; "
                f"time limit {self.time_limit_ms} ms")


def is_queue_seed(seed: int) -> bool:
    """Which seeds of `python -m chaos` run in queue mode: one in three."""
    return seed % 3 == 0


def notification(instance: str, hook: str, tok: str, activity: str, group: str = GROUP,
                 transition: str = "INSTANCE_TERMINATING") -> str:
    return json.dumps({
        "Service": "Tencent Cloud Auto Scaling", "Time": "2026-12-04T10:15:11Z", "AppId": "1251783334",
        "ActivityId": activity, "AutoScalingGroupId": group, "LifecycleHookId": hook,
        "LifecycleHookName": "forged", "LifecycleActionToken": tok, "InstanceId": instance,
        "LifecycleTransition": transition, "NotificationMetadata": "",
    })


def _world(rng: random.Random, visibility: int) -> Tuple[Dict[str, Any], str, List[str]]:
    estate, label = build_estate(rng)
    estate["lifecycleActions"] = []
    members = [i["instanceId"] for i in estate["instances"] if i["instanceId"] not in (*STAYING, STANDALONE)]
    (group,) = estate["scalingGroups"]
    group["instances"] = [{"instanceId": iid} for iid in members]
    group["lifecycleHooks"].append({
        **group["lifecycleHooks"][0], "lifecycleHookId": FOREIGN_HOOK, "lifecycleHookName": "backup-before-terminate",
        "notificationTarget": {"targetType": "TDMQ_CMQ_QUEUE", "queueName": FOREIGN_QUEUE},
    })
    queues = [q for q in estate["queues"] if (q if isinstance(q, str) else q["name"]) != LIFECYCLE_QUEUE]
    queues.append({"name": LIFECYCLE_QUEUE, "visibilityTimeout": visibility, "msgRetentionSeconds": 3600,
                   "deadLetterQueueName": QUEUE_DEAD, "policy": 0, "maxReceiveCount": MAX_RECEIVE_COUNT})
    for name in (QUEUE_DEAD, FOREIGN_QUEUE):
        if name not in queues:
            queues.append(name)
    estate["queues"] = queues
    return estate, label, members


def build_queue(seed: int) -> QueueScenario:
    rng = random.Random(seed * 1_000_003 + 17)
    visibility = rng.choice([2, 3, 30])
    """2-3 s: a pass (slow replies below) outlasts it now and then, so its deletes find stale handles and the
    messages come back; far shorter than a run (1 s with 0.14 s replies) makes every receipt of a message a
    new retry envelope, a misconfiguration `make check` refuses (VisibilityTimeout >= function timeout)."""
    estate, label, members = _world(rng, visibility)
    tags: Set[str] = {"queue"}
    if label == "variant":
        tags.add("variant")
    tags |= kinds_tags(estate)

    leaving = sorted(rng.sample(members, rng.randint(1, min(5, len(members) - 1))))
    only = [i for i in KINDS_ONLY if i in members and i not in leaving]
    if only and rng.random() < 0.5:  # one bound only through a target group, a classic load balancer or an interface's IP
        leaving = sorted(leaving + [rng.choice(only)])
    serving = [m for m in members if m not in leaving]
    lost = {i for i in leaving if rng.random() < 0.2}
    if lost:
        tags.add("lost-notification")

    detaching_lb: Optional[str] = None
    if serving and rng.random() < 0.3:
        detaching_lb = rng.choice(serving)
        for m in estate["scalingGroups"][0]["instances"]:
            if m["instanceId"] == detaching_lb:
                m["lifeCycleState"] = "DETACHING_LB"

    injected: List[Injected] = []
    for _ in range(rng.randint(0, 4)):
        injected.append(Injected("junk", rng.choice(JUNK)))
    if serving and rng.random() < 0.4:
        iid = rng.choice(serving)
        injected.append(Injected("launching", notification(iid, "ash-hook0001", token(rng), "asa-launch01",
                                                           transition="INSTANCE_LAUNCHING"), (iid,)))
    if serving and rng.random() < 0.6:
        iid = rng.choice(serving)
        injected.append(Injected("forged_serving", notification(iid, "ash-hook0001", token(rng), "asa-emu00001"), (iid,)))
    if rng.random() < 0.4:
        injected.append(Injected("forged_standalone", notification(STANDALONE, "ash-hook0001", token(rng), "asa-emu00001"), (STANDALONE,)))
    if detaching_lb:
        injected.append(Injected("forged_detaching_lb", notification(detaching_lb, "ash-hook0001", token(rng), "asa-emu00001"), (detaching_lb,)))
    if serving and rng.random() < 0.3:
        iid = rng.choice(serving)
        injected.append(Injected("forged_other_group", notification(iid, "ash-hook0001", token(rng), "asa-emu00001", OTHER_GROUP), (iid,)))
    if serving and rng.random() < 0.4:
        part = rng.sample(serving, min(len(serving), rng.randint(1, 2)))
        injected.append(Injected("direct_shape", json.dumps({"instanceIds": part}), tuple(part)))
    if serving and rng.random() < 0.4:
        iid = rng.choice(serving)
        envelope = {"kind": "clb-unbind/retry", "version": 1, "attempt": 1, "firstSeen": "2026-12-04T10:00:00Z",
                    "notices": [{"instanceId": iid, "reason": "operator drain", "source": "direct", "recordId": "forged-1"}],
                    "original": json.dumps({"instanceIds": [iid]})}
        injected.append(Injected("unsigned_envelope", json.dumps(envelope), (iid,)))
    wrong_hook = [i for i in leaving if rng.random() < 0.35]
    tags.update(i.kind for i in injected)
    if wrong_hook:
        tags.add("wrong_hook")

    knobs: Dict[str, Any] = {"seed": seed, "task_seconds": round(rng.uniform(0.01, 0.04), 3)}
    if rng.random() < 0.6:
        knobs["cmq_error_rate"] = round(rng.uniform(0.05, 0.35), 3)
        knobs["cmq_error_code"] = rng.choice([6000, 4420])
        knobs["cmq_fault_actions"] = sorted(set(rng.sample(CMQ_FAULTS, rng.randint(1, 2))))
        tags.update(f"{a}-faults" for a in knobs["cmq_fault_actions"])
    if rng.random() < 0.5:
        knobs["error_rate"] = round(rng.uniform(0.0, 0.15), 3)
        knobs["fault_actions"] = sorted(set(rng.sample(HANDLER_ACTIONS, rng.randint(1, len(HANDLER_ACTIONS)))))
    if rng.random() < 0.3:
        knobs["drop_reply_rate"] = round(rng.uniform(0.0, 0.15), 3)
        knobs.setdefault("fault_actions", sorted(HANDLER_ACTIONS))
    if rng.random() < 0.3:
        knobs["busy_rate"] = round(rng.uniform(0.0, 0.2), 3)
    if rng.random() < LISTENERS_SHOW_GROUPS_RATE:
        knobs["listeners_show_target_groups"] = True
        tags.add("listeners-show-groups")
    if visibility <= 3 or rng.random() < 0.2:
        knobs["latency_seconds"] = round(rng.uniform(0.03, 0.1), 3)  # a pass outlasts a short visibility timeout
        tags.add("visibility-expiry" if visibility <= 3 else "slow-api")

    rounds: List[Round] = []
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        if roll < 0.3:
            rounds.append(Round("overlap"))
            tags.add("overlap")
        elif roll < 0.55 and not any(r.kind == "kill" for r in rounds):
            rounds.append(Round("kill", round(rng.uniform(0.05, 0.8), 2)))
            tags.add("killed")
        else:
            rounds.append(Round("single"))

    env = {
        "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE,
        "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE,
        "CLB_UNBIND_GROUPS": GROUP,
        "CLB_UNBIND_ENVELOPE_SECRET": ENVELOPE_SECRET,
        "CLB_UNBIND_MAX_ATTEMPTS": str(rng.choice([3, 4, 5])),
        "CLB_UNBIND_TASK_POLL_SECONDS": "0.02",
        "CLB_UNBIND_SAFETY_MARGIN_SECONDS": str(round(rng.uniform(0.3, 0.6), 2)),
        "CLB_UNBIND_RETRY_BASE_SECONDS": "0",
        "CLB_UNBIND_POLL_SECONDS": rng.choice(["0", "0", "1"]),
        "CLB_UNBIND_CONSUME_SECONDS": str(rng.choice([2, 3, 50])),
        "CLB_UNBIND_MAX_INSTANCES_PER_PASS": str(rng.choice([4, 16, 100])),
        "CLB_UNBIND_CONCURRENCY": str(rng.randint(1, 4)),
        "CLB_UNBIND_LOG_LEVEL": "INFO",
    }
    return QueueScenario(
        seed=seed, estate=estate, knobs=knobs, env=env, time_limit_ms=rng.choice([3000, 4000, 5000]),
        leaving=leaving, lost_notifications=lost, injected=injected, wrong_hook=wrong_hook, detaching_lb=detaching_lb,
        rounds=rounds, visibility_timeout=visibility, label=label, tags=tags,
    )
