"""`python -m deploy deadletters list|redrive|purge`: the dead-letter queue, end to end.

Where the letters are: the function's ``CLB_UNBIND_DEAD_LETTER_QUEUE`` and the dead-letter queue of its
``CLB_UNBIND_QUEUE`` (setup makes them one queue), read from the function itself (``GetFunction``,
``DescribeCmqQueueDetail``), so the command needs no more than the function's name.

Reading: the CMQ data plane has no peek. A letter is read with ``BatchReceiveMessage``, which hides it
for the dead-letter queue's ``VisibilityTimeout`` (10 s as setup makes it) and hands out a receipt
handle; a letter that is not deleted comes back untouched after that time (doc 1496/127321; the
function's own client, handler ``cloud/cmq.py``, speaks the protocol). So ``list`` hides what it
shows for that long, and a ``redrive`` or ``purge`` that finds letters hidden (``InactiveMsgNum``)
waits, with the long poll, until they are visible again.

Redriving keeps the function's trust rules by moving the letter, not by vouching for it: its body
goes unchanged onto the queue the function's timer consumes (``CLB_UNBIND_RETRY_QUEUE``, else
``CLB_UNBIND_QUEUE``) with ``SendCmqMsg``. A letter the function wrote is its own dead-letter envelope
(signed by the function where it signs envelopes); the function reads it back as a redrive (attempt 1)
and checks every lifecycle notice with Auto Scaling again, as on every attempt; a notice whose
envelope is not the function's own is a claim and nothing more. A letter the queue's own dead-letter
policy moved (an Auto Scaling notification, a retry envelope no run could finish) is sent back as it
came. The tool never reads, holds or writes the envelope secret, so it cannot make a claim look
trusted. A letter that names no work (``refused_input``: a producer's malformed message) is not
redriven: fix the producer, then ``purge`` it.

A letter is deleted (``BatchDeleteMessage`` with the handle of this run's receive) only after its
redrive ended: the send answered ``Result`` true. A delete that fails after a good send leaves the
letter to come back; a second redrive sends it again, which the function handles as a duplicate
(unbinding is judged by re-reading the bindings).

Nothing secret is printed: a letter's ``original`` payload is shown only as its size, and every other
text passes through the function's scrubber with the operator's credentials and the function's
secrets.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from . import current
from .cloud import ApiFailure, Cloud
from .function_settings import function_settings, secrets_of

Json = Dict[str, Any]
DETAIL_CHARS = 300
WAIT_MARGIN = 5.0
"""Seconds beyond the dead-letter queue's VisibilityTimeout to wait for letters a read has hidden."""
SESSION_SECONDS = 600.0


class DeadLetterError(Exception):
    """The dead-letter queue cannot be found or read; the message says what to do."""


@dataclass
class Letter:
    msg_id: str
    handle: str
    body: str = field(repr=False)
    enqueued: Optional[int]
    kind: str
    """``dead-letter`` (the function's own), ``retry``, ``notification`` (Auto Scaling's), ``unknown``."""
    reason: str
    instances: List[str]
    attempts: Optional[int]
    first_seen: str
    detail: str
    redrivable: bool
    why_not: str = ""


@dataclass
class Place:
    """The queues a deployment's dead letters involve."""

    function: str
    region: str
    dead_letter_queue: str
    consumer_queue: str
    visibility_timeout: int
    env: Dict[str, str]


def _text(value: Any, limit: int = DETAIL_CHARS) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[:limit] + "…"


def describe(msg_id: str, handle: str, body: str, enqueued: Optional[int]) -> Letter:
    """What a letter is, read from its body as the function would tell it apart."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    size = len(body.encode("utf-8", "surrogatepass"))
    if isinstance(data, dict) and data.get("kind") == "clb-unbind/dead-letter":
        notices = [n for n in data.get("notices") or [] if isinstance(n, dict)]
        activities = [a for a in data.get("activities") or [] if isinstance(a, dict)]
        instances = [str(n.get("instanceId")) for n in notices]
        named = bool(notices or activities)
        detail = _text(data.get("detail") or "")
        codes = sorted({str(e.get("code")) for e in data.get("errors") or [] if isinstance(e, dict) and e.get("code")})
        if codes:
            detail += f" (errors: {', '.join(codes)})"
        if activities:
            detail += f" (scaling activities: {', '.join(str(a.get('activityId')) for a in activities)})"
        return Letter(msg_id, handle, body, enqueued, "dead-letter", str(data.get("reason") or "?"), instances,
                      data.get("attempt") if isinstance(data.get("attempt"), int) else None, str(data.get("firstSeen") or ""),
                      detail, named,
                      "" if named else "it names no instance (its original payload is all there is): fix the producer, then purge it")
    if isinstance(data, dict) and data.get("kind") == "clb-unbind/retry":
        notices = [n for n in data.get("notices") or [] if isinstance(n, dict)]
        return Letter(msg_id, handle, body, enqueued, "retry", "moved_by_queue_policy", [str(n.get("instanceId")) for n in notices],
                      data.get("attempt") if isinstance(data.get("attempt"), int) else None, str(data.get("firstSeen") or ""),
                      "a retry envelope no run could end within the queue's MaxReceiveCount", True)
    if isinstance(data, dict) and data.get("Service") == "Tencent Cloud Auto Scaling":
        instance = data.get("InstanceId")
        what = data.get("LifecycleTransition") or data.get("ActivityType") or "notification"
        return Letter(msg_id, handle, body, enqueued, "notification", "moved_by_queue_policy",
                      [str(instance)] if instance else [], None, str(data.get("Time") or ""),
                      f"an Auto Scaling {what} notification (hook {data.get('LifecycleHookId') or '-'}, group "
                      f"{data.get('AutoScalingGroupId') or '-'}) no run could end within the queue's MaxReceiveCount", True)
    return Letter(msg_id, handle, body, enqueued, "unknown", "moved_by_queue_policy", [], None, "",
                  f"a message of {size} bytes that is not the function's nor Auto Scaling's", True)


def _handler() -> Any:
    """The function's own CMQ data-plane client, session and settings (the handler package)."""
    function_settings({})  # puts the handler on sys.path
    from clb_unbind.cloud import cmq
    from clb_unbind.cloud.deadline import Deadline
    from clb_unbind.cloud.session import CloudSession
    from clb_unbind.config import Settings

    return cmq, Deadline, CloudSession, Settings


@dataclass
class DeadLetters:
    """One command's view of a deployment's dead letters."""

    cloud: Cloud
    place: Place
    cmq_endpoint: Optional[str] = None
    say: Callable[[str], None] = print
    _session: Any = None
    _held: Set[str] = field(default_factory=set)
    """Letters this command received and has not deleted: hidden by it, not by an earlier read."""

    @classmethod
    def locate(cls, cloud: Cloud, function: str, namespace: str, cmq_endpoint: Optional[str] = None,
               say: Callable[[str], None] = print) -> "DeadLetters":
        fn = current.function(cloud, function, namespace)
        if fn is None:
            raise DeadLetterError(f"no function {function} in namespace {namespace} of {cloud.region}: "
                                  f"run `make setup`, or pass --function")
        env = current.environment(fn)
        queue = env.get("CLB_UNBIND_QUEUE", "")
        q = current.queue(cloud, queue) if queue else None
        names = [n for n in dict.fromkeys([env.get("CLB_UNBIND_DEAD_LETTER_QUEUE", ""),
                                           ((q or {}).get("DeadLetterPolicy") or {}).get("DeadLetterQueue") or ""]) if n]
        if not names:
            raise DeadLetterError(f"function {function} names no dead-letter queue (CLB_UNBIND_DEAD_LETTER_QUEUE) and "
                                  f"{queue or 'its queue'} has no dead-letter policy: run `make setup`")
        if len(names) > 1:
            say(f"note: the function dead-letters into {names[0]} and {queue}'s policy into {names[1]}; "
                f"reading {names[0]} (pass --queue {names[1]} for the other)")
        dlq = current.queue(cloud, names[0])
        if dlq is None:
            raise DeadLetterError(f"dead-letter queue {names[0]} does not exist: run `make setup`")
        consumer = env.get("CLB_UNBIND_RETRY_QUEUE") or queue
        place = Place(function, cloud.region, names[0], consumer, int(dlq.get("VisibilityTimeout") or 30), env)
        return cls(cloud, place, cmq_endpoint or env.get("CLB_UNBIND_CMQ_ENDPOINT") or None, say)

    # ----------------------------------------------------------------- the data plane
    def session(self) -> Any:
        if self._session is None:
            _, Deadline, CloudSession, Settings = _handler()
            cred = self.cloud.credential
            settings = Settings(region=self.cloud.region, endpoint=self.cloud.endpoint, secret_id=cred.secret_id,
                                secret_key=cred.secret_key, session_token=getattr(cred, "token", None) or None,
                                cmq_endpoint=self.cmq_endpoint)
            try:
                settings.cmq_base_url  # noqa: B018 - raises for a region without a known endpoint
            except ValueError as exc:
                raise DeadLetterError(f"{exc} (pass CMQ_ENDPOINT=...; docs/regions.md)") from None
            self._session = CloudSession(settings, Deadline(time.monotonic() + SESSION_SECONDS))
        return self._session

    @property
    def secrets(self) -> Tuple[str, ...]:
        cred = self.cloud.credential
        values = [cred.secret_id, cred.secret_key, getattr(cred, "token", None)]
        values += list(secrets_of(self.place.env))
        return tuple(v for v in values if v)

    def clean(self, text: str) -> str:
        function_settings({})
        from clb_unbind.scrub import scrub

        return str(scrub(text, self.secrets))

    def counts(self) -> Dict[str, int]:
        q = current.queue(self.cloud, self.place.dead_letter_queue) or {}
        return {"visible": int(q.get("ActiveMsgNum") or 0), "hidden": int(q.get("InactiveMsgNum") or 0),
                "delayed": int(q.get("DelayMsgNum") or 0)}

    def batches(self, wait_for_hidden: bool) -> Iterator[List[Letter]]:
        """Batches of up to 16 letters as they are received (each hidden for the queue's
        VisibilityTimeout from then on, so the caller acts on a batch before reading the next); with
        ``wait_for_hidden``, also the letters an earlier read hid, once they are visible again."""
        cmq = _handler()[0]
        from clb_unbind.cloud.errors import CloudError

        said = False
        deadline = time.monotonic() + self.place.visibility_timeout + WAIT_MARGIN

        def receive(poll: int) -> List[Letter]:
            try:
                got = cmq.receive(self.session(), self.place.dead_letter_queue, cmq.MAX_BATCH, poll)
            except CloudError as exc:
                raise DeadLetterError(self.clean(f"reading {self.place.dead_letter_queue} failed: {exc.failure.code}: "
                                                 f"{exc.failure.message}")) from None
            letters = [describe(m.msg_id, m.receipt_handle, m.body, m.enqueue_time) for m in got]
            self._held.update(letter.msg_id for letter in letters)
            return letters

        while True:
            batch = receive(0)
            if batch:
                yield batch
                continue
            left = deadline - time.monotonic()
            if not wait_for_hidden or left < 1:
                return
            hidden = self.counts()["hidden"] - len(self._held)  # what this command holds is in the count too
            if hidden <= 0:
                return
            if not said:
                self.say(f"waiting up to {int(left)} s for {hidden} letter(s) an earlier read (a listing, a dry run, "
                         f"another operator) has hidden for the queue's VisibilityTimeout")
                said = True
            batch = receive(int(min(cmq.MAX_POLL_SECONDS, left)))
            if not batch:
                return
            yield batch

    def read(self, wait_for_hidden: bool) -> List[Letter]:
        letters = [letter for batch in self.batches(wait_for_hidden) for letter in batch]
        return sorted(letters, key=lambda letter: (letter.enqueued or 0, letter.msg_id))

    def delete(self, letters: Sequence[Letter]) -> Tuple[List[str], Dict[str, str]]:
        cmq = _handler()[0]
        result = cmq.delete(self.session(), self.place.dead_letter_queue, [letter.handle for letter in letters])
        by_handle = {letter.handle: letter.msg_id for letter in letters}
        failed = {by_handle[h]: self.clean(f"{f.code}: {f.message}") for h, f in result.failed.items()}
        failed.update({by_handle[h]: "the receipt handle expired (the letter comes back; run the command again)"
                       for h in result.stale})
        deleted = [by_handle[h] for h in result.deleted]
        self._held.difference_update(deleted)
        return deleted, failed

    # ----------------------------------------------------------------- what the operator sees
    def line(self, letter: Letter, now: Optional[float] = None) -> str:
        now = time.time() if now is None else now
        age = f", {int(now - letter.enqueued)} s in the queue" if letter.enqueued else ""
        attempts = f", attempts {letter.attempts}" if letter.attempts is not None else ""
        first = f", first seen {letter.first_seen}" if letter.first_seen else ""
        who = ", ".join(letter.instances) or "no instance"
        size = len(letter.body.encode("utf-8", "surrogatepass"))
        text = (f"letter {letter.msg_id}: {letter.reason} ({letter.kind}), instances {who}{attempts}{first}{age}, "
                f"{size} bytes\n    {letter.detail}")
        if not letter.redrivable:
            text += f"\n    not redrivable: {letter.why_not}"
        return self.clean(text)


def pick(letters: Sequence[Letter], ids: Sequence[str], every: bool) -> List[Letter]:
    """The letters of a batch that were asked for."""
    return list(letters) if every else [letter for letter in letters if letter.msg_id in ids]


def _redrive_batch(d: DeadLetters, chosen: List[Letter], dry_run: bool) -> Tuple[int, int]:
    """(re-queued and deleted, failed) for one batch; each letter is deleted right after its send, while
    the handle of this read is fresh."""
    place = d.place
    done = failed = 0
    for letter in chosen:
        d.say(d.line(letter))
        if not letter.redrivable:
            d.say("    kept")
            failed += 1
            continue
        if dry_run:
            d.say(f"    would send it to {place.consumer_queue} (SendCmqMsg), then delete it from {place.dead_letter_queue}")
            continue
        try:
            reply = d.cloud.write("tdmq", "SendCmqMsg", {"QueueName": place.consumer_queue, "MsgContent": letter.body,
                                                         "DelaySeconds": 0})
        except ApiFailure as exc:
            d.say(d.clean(f"    not sent ({exc.code}: {exc.message}); kept"))
            failed += 1
            continue
        if reply.get("Result") is not True:
            d.say(f"    SendCmqMsg answered Result={reply.get('Result')!r}: not sent; kept")
            failed += 1
            continue
        d.say(f"    re-queued on {place.consumer_queue} as message {reply.get('MsgId')}")
        deleted, not_deleted = d.delete([letter])
        if deleted:
            d.say(f"    deleted letter {letter.msg_id} (its work is back on {place.consumer_queue})")
            done += 1
        for why in not_deleted.values():
            d.say(f"    re-queued but not deleted: {why}")
            failed += 1
    return done, failed


def redrive(d: DeadLetters, ids: Sequence[str], every: bool, dry_run: bool) -> int:
    """0 every chosen letter redriven (or, dry, would be); 1 some could not be; 2 none of the ids found."""
    place = d.place
    d.say(f"dead letters of {place.function} in {place.region}: queue {place.dead_letter_queue}; a redrive sends each "
          f"letter unchanged to {place.consumer_queue}, which the function's timer consumes, then deletes the letter"
          + (" (dry run: nothing is sent or deleted)" if dry_run else ""))
    seen: set = set()
    chosen_count = done = failed = 0
    for batch in d.batches(wait_for_hidden=True):
        seen.update(letter.msg_id for letter in batch)
        chosen = pick(batch, ids, every)
        chosen_count += len(chosen)
        ok, bad = _redrive_batch(d, chosen, dry_run)
        done, failed = done + ok, failed + bad
        if not every and set(ids) <= seen:
            break
    unknown = [i for i in ids if i not in seen]
    for i in unknown:
        d.say(f"no letter {i} in {place.dead_letter_queue} (`make deadletters` lists them)")
    if not chosen_count:
        d.say("nothing to redrive" + ("" if seen else f": {place.dead_letter_queue} is empty"))
        return 2 if unknown else 0
    if dry_run:
        d.say(f"{chosen_count - failed} letter(s) would be redriven; none was (dry run); the letters read are hidden for "
              f"{place.visibility_timeout} s, and a redrive run now waits for them")
    else:
        d.say(f"{done} letter(s) redriven. The next timer run handles them: a lifecycle notice is checked with Auto "
              f"Scaling again, and work that still fails is dead-lettered again with its reason. Undo: none needed (a "
              f"redriven letter is a message like any other; `make check` shows whether the queue is empty).")
    return 1 if failed or unknown else 0


def purge(d: DeadLetters, ids: Sequence[str], every: bool, dry_run: bool) -> int:
    place = d.place
    d.say(f"purging dead letters of {place.function} from {place.dead_letter_queue}: deleted without a redrive"
          + (" (dry run: nothing is deleted)" if dry_run else "; this cannot be undone"))
    seen: set = set()
    chosen_count = failed = 0
    for batch in d.batches(wait_for_hidden=True):
        seen.update(letter.msg_id for letter in batch)
        chosen = pick(batch, ids, every)
        chosen_count += len(chosen)
        for letter in chosen:
            d.say(d.line(letter))
        if chosen and not dry_run:
            deleted, not_deleted = d.delete(chosen)
            for msg_id in deleted:
                d.say(f"deleted letter {msg_id}")
            for msg_id, why in not_deleted.items():
                d.say(f"letter {msg_id} not deleted: {why}")
                failed += 1
        if not every and set(ids) <= seen:
            break
    unknown = [i for i in ids if i not in seen]
    for i in unknown:
        d.say(f"no letter {i} in {place.dead_letter_queue}")
    if not chosen_count:
        d.say("nothing to purge")
        return 2 if unknown else 0
    if dry_run:
        d.say(f"{chosen_count} letter(s) would be deleted; none was (dry run)")
    return 1 if failed or unknown else 0


def show(d: DeadLetters) -> int:
    place = d.place
    counts = d.counts()
    d.say(f"dead letters of {place.function} in {place.region}: queue {place.dead_letter_queue} holds {counts['visible']} "
          f"visible, {counts['hidden']} hidden by a read in the last {place.visibility_timeout} s, {counts['delayed']} delayed")
    letters = d.read(wait_for_hidden=False)
    for letter in letters:
        d.say(d.line(letter))
    if letters:
        d.say(f"reading hid these {len(letters)} letter(s) for {place.visibility_timeout} s (the queue's VisibilityTimeout; "
              f"CMQ has no peek); they come back untouched. Next: fix the cause each reason names, then "
              f"`make redrive ID=<id>` or `make redrive ALL=1` (DRY_RUN=1 first); `python -m deploy deadletters purge "
              f"--id <id>` drops one for good")
    elif counts["hidden"]:
        d.say("no letter is visible now: an earlier read hid them; run again in a moment")
    else:
        d.say("the dead-letter queue is empty")
    return 0


def run(cloud: Cloud, args: Any, say: Callable[[str], None]) -> int:
    """The ``deadletters`` command (its flags in deploy/cli.py)."""
    if args.action in ("redrive", "purge") and not (args.id or args.all):
        say(f"deadletters {args.action}: name the letters: --id MSG_ID (repeatable) or --all")
        return 2
    try:
        d = DeadLetters.locate(cloud, args.function, args.namespace, args.cmq_endpoint, say)
        if args.queue:
            d.place.dead_letter_queue = args.queue
        if args.action == "list":
            return show(d)
        if args.action == "redrive":
            return redrive(d, args.id, args.all, args.dry_run)
        return purge(d, args.id, args.all, args.dry_run)
    except DeadLetterError as exc:
        say(f"deadletters: {exc}")
        return 2


__all__ = ["DeadLetters", "Letter", "describe", "purge", "redrive", "run", "show"]
