"""Start the emulator as its own process, send each sample event in events/ through `main_handler`
over real SDK calls, print the function's JSON logs as they come, then a readable summary."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "emulator" / "estates" / "demo.json"
API_SECRET = "demo-api-secret-not-for-production"


def start_emulator() -> Tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "emulator", "--estate", str(ESTATE), "--port", "0", "--task-seconds", "0.3", "--latency", "0.01"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if "listening on" not in line:
        proc.kill()
        raise SystemExit(f"the emulator did not start: {line!r}")
    return proc, line.rsplit(" ", 1)[-1]


def sign(event: Dict[str, Any]) -> Dict[str, Any]:
    """API Gateway samples carry placeholder signature headers: sign them now, as a caller would."""
    from clb_unbind.triggers.apigw import sign as signature_of

    body = event.get("body") or ""
    timestamp = str(int(time.time()))
    signature = signature_of(API_SECRET, timestamp, body.encode())
    headers = {k: v for k, v in (event.get("headers") or {}).items() if not k.lower().startswith("x-clb-unbind-")}
    headers.update({"X-Clb-Unbind-Timestamp": timestamp, "X-Clb-Unbind-Signature": signature})
    return {**event, "headers": headers}


def main() -> int:
    estate = json.loads(ESTATE.read_text())
    credential = estate["credentials"][0]
    os.environ.update(
        {
            "TENCENTCLOUD_SECRETID": credential["secretId"],
            "TENCENTCLOUD_SECRETKEY": credential["secretKey"],
            "TENCENTCLOUD_REGION": estate.get("region", "ap-guangzhou"),
            "CLB_UNBIND_RETRY_QUEUE": "clb-unbind-retry",
            "CLB_UNBIND_DEAD_LETTER_QUEUE": "clb-unbind-dead-letter",
            "CLB_UNBIND_API_SECRET": API_SECRET,
        }
    )
    sys.path.insert(0, str(ROOT / "handler"))
    from index import main_handler

    runs: List[Tuple[str, Any, float]] = []
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and "requestContext" in event:
            event = sign(event)
        # A fresh emulator per event, so each summary shows what that event alone does to the demo estate.
        proc, endpoint = start_emulator()
        os.environ["CLB_UNBIND_ENDPOINT"] = endpoint
        print(f"\n=== {path.name} (emulator at {endpoint}) ===", flush=True)
        started = time.monotonic()
        try:
            answer: Any = main_handler(event, {"request_id": f"demo-{path.stem}", "time_limit_in_ms": 60000})
        except Exception as exc:  # the function raises when work cannot be queued: show it, go on
            answer = exc
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        runs.append((path.name, answer, time.monotonic() - started))
    print(summary(runs))
    return 0


def summary(runs: List[Tuple[str, Any, float]]) -> str:
    lines = ["", "=" * 100, "Summary: what the function did for each sample event", "=" * 100]
    for name, answer, seconds in runs:
        if isinstance(answer, Exception):
            lines.append(f"{name}: raised {type(answer).__name__}: {answer}  ({seconds:.2f}s)")
            continue
        result = answer
        status = ""
        if "statusCode" in answer:
            status = f"HTTP {answer['statusCode']}, "
            result = json.loads(answer["body"])
        calls = result.get("apiCalls", {})
        lines.append(f"{name}: {status}{sum(calls.values())} API calls ({', '.join(f'{k} {v}' for k, v in calls.items()) or 'none'}), {seconds:.2f}s")
        if "error" in result:
            lines.append(f"    refused: {result['error']}")
        for record in result.get("records", []):
            lines.append(f"    record {record['recordId']}: {record['status']}" + (f" ({record['reason']})" if record.get("reason") else ""))
            for inst in record["instances"]:
                verb = "would unbind" if inst["dryRun"] else "unbound"
                lines.append(f"      {inst['instanceId']}: {inst['status']}" + ("; lifecycle action completed" if inst["lifecycleCompleted"] else ""))
                for b in inst["removed"] if not inst["dryRun"] else inst["remaining"]:
                    rule = f" rule {b['locationId']}" if b["locationId"] else ""
                    lines.append(f"        {verb} {b['privateIp']}:{b['port']} from {b['loadBalancerId']} listener {b['listenerId']} ({b['protocol']}:{b['listenerPort']}){rule}")
                if not inst["dryRun"]:
                    for b in inst["remaining"]:
                        lines.append(f"        STILL BOUND {b['privateIp']}:{b['port']} on {b['loadBalancerId']}/{b['listenerId']}")
                for b in inst["leftAlone"]:
                    lines.append(f"        left alone (not allowed) {b['loadBalancerId']}/{b['listenerId']}")
                for e in inst["errors"]:
                    lines.append(f"        error {e['code']}: {e['message']}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
