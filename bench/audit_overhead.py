"""The hook audit's cost on an idle timer run: calls and wall time with the audit on and off.

    .venv/bin/python -m bench.audit_overhead [--runs 10] [--latency 0.05]

An idle run (empty queue, nobody waiting) against the emulator, with the default long poll of 3 s and
every API reply delayed by `--latency` seconds (the emulator's `latency_seconds` knob, standing in for
the network). Runs alternate on / off so drift on a shared machine hits both alike.
"""
from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handler"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()

    from clb_unbind.app import handle
    from emulator import Emulator, Knobs

    from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id

    emu = Emulator(fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), 30, 3), knobs=Knobs(latency_seconds=args.latency))
    emu.start()
    secret_id, secret_key, _ = emu.credentials
    env = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
           "CLB_UNBIND_ENDPOINT": emu.endpoint, "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE,
           "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE, "CLB_UNBIND_GROUPS": ",".join(group_id(g) for g in range(3))}
    seconds: Dict[str, List[float]] = {"on": [], "off": []}
    calls: Dict[str, Dict[str, int]] = {}
    try:
        for _ in range(args.runs):
            for mode, audit_seconds in (("on", "60"), ("off", "0")):
                out = io.StringIO()
                real, sys.stdout = sys.stdout, out
                try:
                    handle({"Type": "Timer"}, {"request_id": "bench", "time_limit_in_ms": 60000},
                           {**env, "CLB_UNBIND_AUDIT_SECONDS": audit_seconds})
                finally:
                    sys.stdout = real
                line = next(json.loads(x) for x in out.getvalue().splitlines() if '"decision": "metrics"' in x)
                seconds[mode].append(line["run_seconds"])
                calls[mode] = line["api_calls_by_action"]
    finally:
        emu.stop()
    on, off = statistics.median(seconds["on"]), statistics.median(seconds["off"])
    print(f"idle timer run, 3 watched groups, long poll 3 s, {args.latency * 1000:.0f} ms per API reply, {args.runs} runs each")
    print(f"  audit off: {off:.3f} s median, calls {calls['off']}")
    print(f"  audit on:  {on:.3f} s median, calls {calls['on']}")
    print(f"  overhead:  {(on - off) * 1000:.0f} ms ({(on - off) / off * 100:.1f} %), "
          f"{sum(calls['on'].values()) - sum(calls['off'].values())} call(s)")


if __name__ == "__main__":
    main()
