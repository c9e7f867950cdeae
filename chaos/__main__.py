"""`python -m chaos --runs N [--seed S]`: N seeded runs (seeds S, S+1, ...), a table of counts, and exit
status 1 if any invariant failed (each failure names its seed; `--runs 1 --seed <seed>` replays it)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional

from . import scenario as scenarios
from .invariants import RunResult, check
from .queue_invariants import check_queue
from .queue_runner import run_queue
from .queue_scenario import build_queue, is_queue_seed
from .report import header, row, summary
from .runner import run


def run_seed(seed: int, mode: str = "mixed") -> RunResult:
    """Push mode (pushed events) or queue mode (timer runs over the CMQ queue): `mixed` gives one seed in
    three to queue mode (`queue_scenario.is_queue_seed`), so a seed replays in the mode it failed in."""
    if mode == "queue" or (mode == "mixed" and is_queue_seed(seed)):
        return check_queue(run_queue(build_queue(seed)))
    return check(run(scenarios.build(seed)))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--runs", type=int, default=20, help="number of seeded runs (default 20)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the first run; run i uses seed + i (default 1)")
    parser.add_argument("--log-dir", type=Path, help="write the function's JSON logs of every failed run here")
    parser.add_argument("--mode", choices=("mixed", "push", "queue"), default="mixed",
                        help="mixed (default): one seed in three in queue mode; push or queue: every seed in that mode")
    parser.add_argument("--verbose", "-v", action="store_true", help="print each run's scenario before its row")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    started = time.monotonic()
    results: List[RunResult] = []
    print(header(), flush=True)
    for seed in range(args.seed, args.seed + args.runs):
        result = run_seed(seed, args.mode)
        results.append(result)
        if args.verbose:
            print(f"        {result.description}")
        print(row(result), flush=True)
        if not result.ok and args.log_dir:
            args.log_dir.mkdir(parents=True, exist_ok=True)
            (args.log_dir / f"seed-{seed}.log").write_text(result.logs)
    print(summary(results))
    print(f"\n{len(results)} run(s) in {time.monotonic() - started:.0f}s; "
          f"{'all invariants held' if all(r.ok for r in results) else 'INVARIANTS FAILED'}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
