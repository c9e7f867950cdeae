"""The metrics line's size: an idle timer run, and one that unbinds 40 notified instances plus a junk message.

    .venv/bin/python -m bench.metrics_line
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "handler"), str(ROOT)]


def main() -> None:
    from clb_unbind.app import handle
    from emulator import Emulator, Knobs

    from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
    from tests.estates import send_to_queue

    emu = Emulator(fleet_estate(Shape(leaving=40, load_balancers=5, bound_on=4), 30, 1), knobs=Knobs(task_seconds=0.02))
    emu.start()
    secret_id, secret_key, _ = emu.credentials
    env = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
           "CLB_UNBIND_ENDPOINT": emu.endpoint, "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE,
           "CLB_UNBIND_DEAD_LETTER_QUEUE": DEAD_LETTER_QUEUE, "CLB_UNBIND_POLL_SECONDS": "0",
           "CLB_UNBIND_GROUPS": group_id(0)}

    def run() -> str:
        out = io.StringIO()
        real, sys.stdout = sys.stdout, out
        try:
            handle({"Type": "Timer"}, {"request_id": "size", "time_limit_in_ms": 60000}, env)
        finally:
            sys.stdout = real
        return next(x for x in out.getvalue().splitlines() if '"decision": "metrics"' in x)

    try:
        idle = run()
        emu.scale_in(group_id(0), [leaving_id(i) for i in range(40)], publish=True)
        send_to_queue(emu, LIFECYCLE_QUEUE, "junk")
        busy = run()
    finally:
        emu.stop()
    print(f"metrics line: idle timer run {len(idle.encode())} bytes; 40 instances unbound + 1 dead letter "
          f"{len(busy.encode())} bytes")


if __name__ == "__main__":
    main()
