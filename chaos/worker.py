"""`python -m chaos.worker TIME_LIMIT_MS REQUEST_ID`: one timer run in a process of its own, so that the
queue-mode runner can kill it with SIGKILL in the middle of its work (the environment is inherited).

Prints `ready` once the handler is imported (the runner's clock for the kill starts there), then the
function's JSON logs, then `answer <json>` if it lives that long.
"""
from __future__ import annotations

import json
import sys

from . import ROOT  # noqa: F401 - puts handler/ on sys.path


def main(argv: list) -> int:
    from index import main_handler

    limit_ms, request_id = int(argv[0]), argv[1]
    print("ready", flush=True)
    context = {"request_id": request_id, "function_name": "clb-unbind", "time_limit_in_ms": limit_ms, "memory_limit_in_mb": 128}
    answer = main_handler({"Type": "Timer", "TriggerName": "clb-unbind-consume", "Time": "2026-12-04T10:16:00Z"}, context)
    print("answer " + json.dumps(answer.get("queue")), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
