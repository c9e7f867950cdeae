"""The counts of chaos runs as a plain-text table: one row per run, then the total."""
from __future__ import annotations

from collections import Counter
from typing import Dict, Iterable, List, Sequence

from .holdings import KINDS
from .invariants import RunResult

COLUMNS = (
    ("seed", "seed"), ("estate", "estate"), ("inv", "invocations"), ("err", "errors"), ("drop", "dropped"),
    ("busy", "busy"), ("tfail", "task_failed"), ("retry", "retries"), ("dlq", "dead_letters"), ("leave", "leaving"),
    ("unbnd", "unbound"), ("dlq'd", "dead_lettered"), ("scf", "scf_kept"), ("lost", "lost"), ("wrong", "wrong_unbinds"),
    ("viol", "violations"), ("secs", "seconds"),
)


def _row(cells: Sequence[str]) -> str:
    return " ".join(c.rjust(6) if i else c.rjust(7) for i, c in enumerate(cells))


def header() -> str:
    return _row([title for title, _ in COLUMNS])


def row(result: RunResult) -> str:
    cells: List[str] = []
    for _, key in COLUMNS:
        if key == "seed":
            cells.append(str(result.seed))
        elif key == "estate":
            cells.append(result.label)
        elif key == "seconds":
            cells.append(f"{result.seconds:.1f}")
        else:
            cells.append(str(result.counts.get(key, 0)))
    return _row(cells)


def totals(results: Iterable[RunResult]) -> Dict[str, object]:
    results = list(results)
    counts: Counter = Counter()
    reasons: Counter = Counter()
    for r in results:
        counts.update(r.counts)
        reasons.update(r.reasons)
    return {"counts": counts, "reasons": reasons, "seconds": sum(r.seconds for r in results),
            "failed": [r for r in results if not r.ok]}


def summary(results: Sequence[RunResult]) -> str:
    t = totals(results)
    counts: Counter = t["counts"]  # type: ignore[assignment]
    reasons: Counter = t["reasons"]  # type: ignore[assignment]
    failed: List[RunResult] = t["failed"]  # type: ignore[assignment]
    total_cells = ["total", f"{len(results)}"] + [str(counts.get(key, 0)) for _, key in COLUMNS[2:-1]] + [f"{t['seconds']:.0f}"]
    lines = ["-" * len(header()), _row(total_cells), ""]
    lines.append(f"runs                      {len(results)}")
    lines.append(f"faults injected           {counts['errors'] + counts['dropped'] + counts['busy'] + counts['task_failed']} "
                 f"(InternalError {counts['errors']}, reply dropped after apply {counts['dropped']}, "
                 f"load balancer busy {counts['busy']} (injected or a real running task), task failed {counts['task_failed']}; "
                 f"rate-limited {counts['rate_limited']})")
    lines.append(f"handler invocations       {counts['invocations']}, of which raised {counts['raised']}")
    lines.append(f"retries queued            {counts['retries']}")
    by_reason = ", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none"
    lines.append(f"dead letters              {counts['dead_letters']} ({by_reason})")
    lines.append(f"leaving instances         {counts['leaving']}: unbound {counts['unbound']}, "
                 f"dead-lettered {counts['dead_lettered']}, kept by SCF {counts['scf_kept']}")
    lines.append(f"events kept by SCF's DLQ  {counts['scf_kept_events']}")
    if counts["queue_runs"]:
        lines.append(f"queue mode                {counts['queue_runs']} run(s): {counts['timer_runs']} timer runs "
                     f"({counts['overlaps']} overlapping pair(s), {counts['killed']} worker(s) killed with SIGKILL); "
                     f"receive failures {counts['receive_faults']}, delete failures {counts['delete_faults']}, "
                     f"handles stale after the visibility timeout {counts['stale_deletes']}; forged or wrong-hook "
                     f"messages {counts['forged']}, junk {counts['junk']}; moved by the queue's own dead-letter policy "
                     f"{counts['queue_dead']}")
    lines.append("bindings by kind          " + "; ".join(
        f"{kind} {counts['removed_' + kind]} removed from leaving instances, {counts['kept_' + kind]} of others kept"
        for kind in KINDS))
    lines.append(f"lost                      {counts['lost']}")
    lines.append(f"wrong unbinds             {counts['wrong_unbinds']}")
    lines.append(f"foreign completions       {counts['foreign_completions']}")
    lines.append(f"invariant violations      {counts['violations']} in {len(failed)} run(s)")
    for r in failed:
        lines.append("")
        lines.append(f"FAILED {r.description}")
        lines.extend(f"  {v}" for v in r.violations[:20])
        if len(r.violations) > 20:
            lines.append(f"  ... and {len(r.violations) - 20} more")
        lines.append(f"  replay: python -m chaos --runs 1 --seed {r.seed}")
    return "\n".join(lines)
