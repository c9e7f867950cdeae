"""Seeded fault-injection ("chaos") runs of clb-unbind against the local emulator.

Issue "Nothing lost", point 6. Every run builds a world and a stream of events from one seed
(`scenario.build(seed)`), sends them through `main_handler` with faults injected by the emulator,
feeds the retry queue back as the queue trigger would until it is drained (`runner.run`), then checks
that nothing was lost and nothing else was touched (`invariants.check`), for every kind of binding:
listeners' and rules' own targets, target-group memberships (v1, v2, full-listen), classic load
balancers' backends, and binds on any IP of any of an instance's network interfaces (`holdings`).
`python -m chaos --runs N [--seed S]` prints the counts (`report`) and exits non-zero when an invariant failed; the message
names the seed, and `python -m chaos --runs 1 --seed <seed>` replays that run.

Queue mode (one seed in three; `--mode queue` for all): Auto Scaling scales in, its notifications and
junk, forged and wrong-hook messages fill the emulator's CMQ lifecycle queue, and timer runs consume it
with receive and delete failures, visibility timeouts running out mid-pass, overlapping runs and a
worker process killed with SIGKILL (`queue_scenario`, `queue_runner`, `queue_invariants`, `worker`).

Not part of the deployed function.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "handler", ROOT):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

RETRY_QUEUE = "clb-unbind-retry"
DEAD_LETTER_QUEUE = "clb-unbind-dead-letter"

__all__ = ["DEAD_LETTER_QUEUE", "RETRY_QUEUE", "ROOT"]
