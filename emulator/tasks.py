"""Asynchronous load-balancer tasks, evaluated lazily by timestamps.

CLB writes are asynchronous: the reply's ``RequestId`` is the task id polled with
``DescribeTaskStatus`` (0 success, 1 failed, 2 running) — docs/cloud-facts.md#clb-deregistertargets-and-describetaskstatus, and the bk-bcs ingress
controller polls ``DescribeTaskStatus(TaskId=RequestId)`` after Batch(De)RegisterTargets (docs/cloud-facts.md#clb-batchderegistertargets-is-synchronous).
ECM mirrors this with ``DescribeLoadBalanceTaskStatus`` (docs/cloud-facts.md#ecm-task-status). CLB BatchDeregisterTargets is
the exception: synchronous by default (docs/cloud-facts.md#clb-batchderegistertargets-is-synchronous; ``services/clb.py``).

No background thread: :meth:`TaskBoard.settle` is called (under the emulator lock) before every
request and every Python-API read, and applies every task whose end time has passed, oldest first.
So a task status of 0 always implies its change is visible.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

Op = Callable[[], None]


@dataclass
class Task:
    task_id: str
    service: str
    action: str
    lb_id: str
    started: float
    ends_at: float
    ops: list[Op] = field(default_factory=list)
    fail: bool = False
    done: bool = False
    message: str = ""

    def status(self) -> int:
        """0 success, 1 failed, 2 running (``DescribeTaskStatusResponse.Status``)."""
        if not self.done:
            return 2
        return 1 if self.fail else 0


class TaskBoard:
    """All tasks and manual locks; not thread-safe by itself (the emulator lock guards it)."""

    def __init__(self) -> None:
        self.tasks: dict[str, Task] = {}
        self._locks: dict[str, float] = {}

    def start(self, task: Task) -> Task:
        self.tasks[task.task_id] = task
        return task

    def settle(self, now: float) -> None:
        """Apply every task that has ended, in end-time order."""
        due = sorted((t for t in self.tasks.values() if not t.done and t.ends_at <= now), key=lambda t: t.ends_at)
        for task in due:
            if not task.fail:
                for op in task.ops:
                    op()
            task.done = True

    def busy(self, lb_id: str, now: float) -> bool:
        """Whether ``lb_id`` has a running task or a manual lock (someone else's task)."""
        if self._locks.get(lb_id, 0.0) > now:
            return True
        return any(t.lb_id == lb_id and not t.done and t.ends_at > now for t in self.tasks.values())

    def lock(self, lb_id: str, seconds: float, now: float) -> None:
        self._locks[lb_id] = max(self._locks.get(lb_id, 0.0), now + seconds)

    def release(self, lb_id: str) -> None:
        """End another party's simulated task early (the function's own tasks run their course)."""
        self._locks.pop(lb_id, None)

    def get(self, task_id: str) -> Task | None:
        return self.tasks.get(task_id)

    def snapshot(self, now: float) -> list[dict[str, object]]:
        return [
            {"taskId": t.task_id, "service": t.service, "action": t.action, "loadBalancerId": t.lb_id,
             "status": t.status(), "remainingSeconds": max(0.0, round(t.ends_at - now, 3)), "operations": len(t.ops)}
            for t in self.tasks.values()
        ]
