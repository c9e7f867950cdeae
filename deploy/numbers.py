"""The deployment's derived numbers: one pure function from the function's timings to every queue,
hook and invocation number, each with the reason it has that value.

Sources (docs/cloud-facts.md, by heading):
* #cmq-queue-semantics: a received message is hidden for the queue's ``VisibilityTimeout`` (1–43200 s) and comes back
  if not deleted; dead-letter ``Policy`` 0 = received ``MaxReceiveCount`` (1–1000) times without a
  delete, 1 = ``MaxTimeToLive`` expired; retention at most 12 h (43200 s); pulls can lag 10–20 s behind
  a send when the queue holds few messages.
* #scf-timer-trigger: the timer trigger's cron has seven fields with seconds; event functions time out after 1–900 s.
* SDK autoscaling ``CreateLifecycleHookRequest.HeartbeatTimeout``: 30–7200 s, default 300.
* The function's own retry (handler ``finish.retry_delay``): the first retry waits at most
  ``CLB_UNBIND_RETRY_BASE_SECONDS``, later ones at most ``CLB_UNBIND_RETRY_MAX_SECONDS``; each retry is
  a new message, so the queue's receive count never counts them.
* #scf-retries-and-async-invocation: SCF retries a failed asynchronous invocation twice by default. The bounds SCF puts on
  ``RetryNum`` and ``MsgTTL`` are UNCONFIRMED (the SDK models state none; 21600 s is the value the
  project's serverless.yml always asked for).

Time a notice can need, end to end (I = timer interval, L = pull lag, T = function timeout,
V = visibility timeout, b = first retry delay):
* it waits at most I + L for a run to receive it, and that run ends within T;
* if that run dies holding it, it is visible again V after it was received, then waits I + L and
  runs T again; if the run hands it back as a retry, it is visible b after the run ended, then the
  same. So one retry costs max(V, T + b) + I + L after the first receipt.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional

from .function_settings import DEFAULTS

VISIBILITY_BOUNDS = (1, 43200)
RETENTION_MAX = 43200
HEARTBEAT_BOUNDS = (30, 7200)
RECEIVE_COUNT_BOUNDS = (1, 1000)
FUNCTION_TIMEOUT_BOUNDS = (1, 900)

VISIBILITY_MARGIN = 30
"""Seconds a message stays hidden past the end of the longest run: the delete sent at the deadline's
edge still lands, and SCF's timeout is not cut to the millisecond."""
PULL_LAG = 20
"""Seconds a CMQ pull can lag behind a send when the queue holds few messages (docs/cloud-facts.md#cmq-queue-semantics)."""
FINISH_ROOM = 30
"""Seconds a run must have after its last receive to finish what that receive brought."""

DEAD_LETTER_VISIBILITY = 10
ASYNC_RETRY_NUM = 2
ASYNC_MSG_TTL = 21600


class DerivationError(ValueError):
    """The inputs cannot give a deployment that keeps every notification; the message says why."""


@dataclass(frozen=True)
class Timings:
    """What the numbers depend on; the function's settings default to what the function itself does
    with the variable unset (handler config.py), so the two cannot drift apart."""

    function_timeout: int = 300
    timer_interval: int = 60
    consume_seconds: float = DEFAULTS.consume_seconds
    poll_seconds: float = DEFAULTS.poll_seconds
    max_attempts: int = DEFAULTS.max_attempts
    retry_base_seconds: float = DEFAULTS.retry_base_seconds
    retry_max_seconds: float = DEFAULTS.retry_max_seconds
    heartbeat: Optional[int] = None
    """A HeartbeatTimeout asked for; None: the least that covers a run and a retry."""


@dataclass(frozen=True)
class Value:
    name: str
    value: object
    reason: str


@dataclass(frozen=True)
class Derived:
    queue: Dict[str, Value]
    dead_letter_queue: Dict[str, Value]
    heartbeat: Value
    async_invoke: Dict[str, Value]
    timer_cron: Value

    def all(self) -> List[tuple]:
        """(resource, Value) pairs in the order they are printed."""
        rows = [("queue", v) for v in self.queue.values()]
        rows += [("dead-letter queue", v) for v in self.dead_letter_queue.values()]
        rows.append(("lifecycle hook", self.heartbeat))
        rows += [("async invoke", v) for v in self.async_invoke.values()]
        rows.append(("timer trigger", self.timer_cron))
        return rows


def visibility_floor(function_timeout: int) -> int:
    """The least VisibilityTimeout that keeps a message hidden for the whole run that received it."""
    return function_timeout + VISIBILITY_MARGIN


def one_retry(function_timeout: int, timer_interval: int, visibility: int, retry_base: float) -> int:
    return max(visibility, function_timeout + math.ceil(retry_base)) + timer_interval + PULL_LAG


def heartbeat_floor(function_timeout: int, timer_interval: int, visibility: int, retry_base: float) -> int:
    """The least HeartbeatTimeout that covers one timer interval, one run and one retry."""
    return timer_interval + PULL_LAG + function_timeout + one_retry(function_timeout, timer_interval, visibility, retry_base)


def receive_cycle(visibility: int, timer_interval: int) -> int:
    """Seconds between two receipts of a message whose runs keep dying: hidden, then picked up again."""
    return visibility + timer_interval + PULL_LAG


def retention_floor(heartbeat: int, max_receive: int, visibility: int, timer_interval: int, retry_max: float) -> int:
    """The least retention that loses nothing: every hook's wait, every receipt before the dead-letter
    move, and the longest retry delay plus the wait for a run."""
    return max(heartbeat, max_receive * receive_cycle(visibility, timer_interval),
               math.ceil(retry_max) + timer_interval + PULL_LAG)


def timer_cron(interval: int) -> str:
    """Seven-field cron with seconds (docs/cloud-facts.md#scf-timer-trigger) firing every `interval` seconds, which divides 60."""
    return "0 */1 * * * * *" if interval == 60 else f"*/{interval} * * * * * *"


def derive(t: Timings, dead_letter_queue: str) -> Derived:
    """Every derived number with its reason; raises :class:`DerivationError` for inputs that would
    lose notifications or fall outside an API's bounds."""
    T, I = t.function_timeout, t.timer_interval
    if not FUNCTION_TIMEOUT_BOUNDS[0] <= T <= FUNCTION_TIMEOUT_BOUNDS[1]:
        raise DerivationError(f"function timeout {T} s is outside SCF's 1–900 s")
    if I < 1 or I > 60 or 60 % I:
        raise DerivationError(f"timer interval {I} s must divide 60 (the timer must fire at least every minute)")
    needed = math.ceil(t.consume_seconds + t.poll_seconds) + FINISH_ROOM
    if T < needed:
        raise DerivationError(
            f"function timeout {T} s leaves no room to finish: a run receives for {t.consume_seconds:g} s, its last "
            f"long poll takes {t.poll_seconds:g} s, and it needs {FINISH_ROOM} s after that: at least {needed} s")
    if not 1 <= t.max_attempts <= RECEIVE_COUNT_BOUNDS[1]:
        raise DerivationError(f"max attempts {t.max_attempts} is outside 1–{RECEIVE_COUNT_BOUNDS[1]}")

    vt = visibility_floor(T)
    if vt > VISIBILITY_BOUNDS[1]:
        raise DerivationError(f"VisibilityTimeout {vt} s would exceed {VISIBILITY_BOUNDS[1]} s")
    floor = heartbeat_floor(T, I, vt, t.retry_base_seconds)
    retry = one_retry(T, I, vt, t.retry_base_seconds)
    why_floor = (f"one timer interval + pull lag ({I}+{PULL_LAG} s) + one run ({T} s) + one retry ({retry} s: "
                 f"max(VisibilityTimeout {vt}, run {T} + first retry delay {math.ceil(t.retry_base_seconds)}) + "
                 f"{I}+{PULL_LAG} s to be received again) = {floor} s")
    if floor > HEARTBEAT_BOUNDS[1]:
        raise DerivationError(f"a run and a retry need a heartbeat of {floor} s, above AS's {HEARTBEAT_BOUNDS[1]} s: "
                              f"shorten the function timeout or the first retry delay")
    if t.heartbeat is None:
        hb = max(floor, HEARTBEAT_BOUNDS[0])
        hb_reason = f"the least that covers {why_floor}; with DefaultResult CONTINUE a shorter wait lets the instance go still bound"
    else:
        if t.heartbeat < floor:
            raise DerivationError(f"heartbeat {t.heartbeat} s is too short: it must cover {why_floor}")
        if t.heartbeat > HEARTBEAT_BOUNDS[1]:
            raise DerivationError(f"heartbeat {t.heartbeat} s is above AS's {HEARTBEAT_BOUNDS[1]} s")
        hb = t.heartbeat
        hb_reason = f"as asked; at least {why_floor}"

    cycle = receive_cycle(vt, I)
    mrc = min(t.max_attempts, RETENTION_MAX // cycle)
    mrc_reason = (f"the function's attempts ({t.max_attempts}): its own retries are new messages, so the queue counts "
                  f"only receipts that ended without a delete (a run that died or ran out of time holding the message, "
                  f"or could not queue its retry); after that many the message is poison and moves to {dead_letter_queue}")
    if mrc < t.max_attempts:
        mrc_reason += f"; cut to {mrc} so that {mrc} receipts {cycle} s apart fit in the {RETENTION_MAX} s retention"
    ret_floor = retention_floor(hb, mrc, vt, I, t.retry_max_seconds)
    ret_reason = (f"the longest CMQ keeps a message (docs/cloud-facts.md#cmq-queue-semantics), so a notice outlives a function outage; it must be at "
                  f"least {ret_floor} s: the heartbeat ({hb} s), {mrc} receipts {cycle} s apart before the dead-letter "
                  f"move, and the longest retry delay ({math.ceil(t.retry_max_seconds)} s) + {I}+{PULL_LAG} s")
    if ret_floor > RETENTION_MAX:
        raise DerivationError(f"the queue would need a retention of {ret_floor} s, above {RETENTION_MAX} s: "
                              f"lower CLB_UNBIND_RETRY_MAX_SECONDS")

    queue = {
        "VisibilityTimeout": Value("VisibilityTimeout", vt,
                                   f"function timeout {T} s + {VISIBILITY_MARGIN} s: a message stays hidden for the whole run "
                                   f"that received it, so no second run takes it while the first still works on it"),
        "MsgRetentionSeconds": Value("MsgRetentionSeconds", RETENTION_MAX, ret_reason),
        "Policy": Value("Policy", 0, "dead-letter by receive count (0), not by age (1): a notice that only waited is "
                                     "still good"),
        "MaxReceiveCount": Value("MaxReceiveCount", mrc, mrc_reason),
        "DeadLetterQueueName": Value("DeadLetterQueueName", dead_letter_queue,
                                     "the queue the function also dead-letters to (CLB_UNBIND_DEAD_LETTER_QUEUE): one "
                                     "place to watch and redrive from"),
    }
    dlq = {
        "VisibilityTimeout": Value("VisibilityTimeout", DEAD_LETTER_VISIBILITY,
                                   "only the operator's deadletters command reads this queue: it re-queues and deletes "
                                   "each batch of 16 within seconds of reading it, and a listing hides what it shows "
                                   "this long (CMQ has no peek)"),
        "MsgRetentionSeconds": Value("MsgRetentionSeconds", RETENTION_MAX,
                                     "the longest CMQ keeps a message: 12 h for an operator to act on the alarm"),
    }
    async_invoke = {
        "RetryNum": Value("RetryNum", ASYNC_RETRY_NUM,
                          "SCF's default (docs/cloud-facts.md#scf-retries-and-async-invocation): a timer run that raised (a queue it could not reach) is retried; "
                          "its messages come back after the visibility timeout whatever SCF does"),
        "MsgTTL": Value("MsgTTL", ASYNC_MSG_TTL,
                        "6 h: an asynchronous direct invocation an operator sent still runs after an SCF backlog"),
    }
    cron = Value("cron", timer_cron(I),
                 f"every {I} s (seven fields, seconds first): the longest a notice waits for a run to start; "
                 f"each run receives for {t.consume_seconds:g} s and stops at the first empty long poll of "
                 f"{t.poll_seconds:g} s")
    return Derived(queue, dlq, Value("HeartbeatTimeout", hb, hb_reason), async_invoke, cron)
