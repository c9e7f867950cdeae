"""The queue broker on an explicit clock: the Time-To-Live dead-letter policy and retention, whose
minimum durations (300 s, 30 s) are too long to wait for over the wire."""
from __future__ import annotations

import itertools
import threading

from emulator.cmq.broker import Broker
from emulator.estate import Queue


def broker(*queues: Queue) -> Broker:
    ids = itertools.count(1)
    return Broker({q.name: q for q in queues}, threading.RLock(), lambda: next(ids))


def test_time_to_live_policy_moves_an_undeleted_message() -> None:
    b = broker(Queue("work", msg_retention_seconds=3600, dead_letter_queue_name="dead", policy=1, max_time_to_live=300),
               Queue("dead"))
    with b.changed:
        b.send("work", "old", 0, 1000.0, "test")
        assert [d.message.body for d in b.receive("work", 16, 1001.0, lambda: False)] == ["old"]
        assert b.counts("work", 1299.0) == {"visible": 1, "inFlight": 0, "delayed": 0}
        assert b.counts("work", 1300.0) == {"visible": 0, "inFlight": 0, "delayed": 0}
        (moved,) = b.messages("dead", 1300.0)
        assert moved["body"] == "old" and moved["state"] == "visible" and moved["dequeueCount"] == 0


def test_retention_drops_old_messages_and_their_handles() -> None:
    b = broker(Queue("work", msg_retention_seconds=60, visibility_timeout=120))
    with b.changed:
        b.send("work", "x", 0, 0.0, "test")
        (d,) = b.receive("work", 1, 1.0, lambda: False)
        assert b.messages("work", 59.0)[0]["state"] == "inFlight"
        assert b.messages("work", 60.0) == []
        assert b.delete("work", d.receipt_handle, 60.0) is False


def test_next_change_is_the_earliest_hidden_message() -> None:
    b = broker(Queue("work"))
    with b.changed:
        b.send("work", "a", 5, 100.0, "test")
        b.send("work", "b", 2, 100.0, "test")
        assert b.next_change("work", 100.0) == 102.0
        assert b.next_change("work", 110.0) is None
