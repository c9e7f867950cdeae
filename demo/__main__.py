"""Start the emulator as its own process, send each sample event in events/ through `main_handler`
over real SDK calls, print the function's JSON logs as they come, then a readable summary."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
ESTATE = ROOT / "emulator" / "estates" / "demo.json"
API_SECRET = "demo-api-secret-not-for-production"
LIFECYCLE_QUEUE = "clb-unbind-lifecycle"
GROUP = "asg-group001"
TIMER_ENV = {"CLB_UNBIND_GROUPS": GROUP, "CLB_UNBIND_POLL_SECONDS": "1"}
"""The timer run: the lifecycle queue, the scaling group to sweep, a 1 s long poll to keep the demo short."""


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


def admin(endpoint: str, name: str, body: Any = None) -> Any:
    """The emulator's loopback admin endpoints (emulator/README.md)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{endpoint}/_emulator/{name}", data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.loads(reply.read())


def publish_lifecycle(endpoint: str, estate: Dict[str, Any]) -> List[str]:
    """Before the timer run: Auto Scaling scales in two instances.

    ins-web00001's hook (pending in the demo estate) notifies the queue, as a producer would with
    SendCmqMsg; ins-web00003 is scaled in now and its notification published by the emulator; the
    notification of ins-web00002 (also pending) was lost: only the sweep can find it."""
    from clb_unbind.wire.envelopes import utc_now_iso

    action = next(a for a in estate["lifecycleActions"] if a["instanceId"] == "ins-web00001")
    body = json.dumps({"Service": "Tencent Cloud Auto Scaling", "Time": utc_now_iso(), "AppId": "1251783334",
                       "ActivityId": "asa-scalein1", "AutoScalingGroupId": GROUP, "LifecycleHookId": action["lifecycleHookId"],
                       "LifecycleHookName": "unbind-before-terminate", "LifecycleActionToken": action["lifecycleActionToken"],
                       "InstanceId": "ins-web00001", "LifecycleTransition": "INSTANCE_TERMINATING", "NotificationMetadata": ""})
    send_cmq_msg(endpoint, estate, body)
    admin(endpoint, "scale-in", {"groupId": GROUP, "instanceIds": ["ins-web00003"], "publish": True})
    return ["queue: ins-web00001, ins-web00003 (2 notifications)", "lost: ins-web00002 (no notification; the sweep's)"]


def send_cmq_msg(endpoint: str, estate: Dict[str, Any], body: str) -> None:
    from tencentcloud.common.credential import Credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.tdmq.v20200217 import models, tdmq_client

    cred = estate["credentials"][0]
    http = HttpProfile(endpoint=endpoint.split("//", 1)[1])
    http.scheme = "http"
    client = tdmq_client.TdmqClient(Credential(cred["secretId"], cred["secretKey"]), estate["region"], ClientProfile(httpProfile=http))
    request = models.SendCmqMsgRequest()
    # DelaySeconds is required (tccli api.json SendCmqMsgRequest), though the SDK model lets it be left out.
    request.QueueName, request.MsgContent, request.DelaySeconds = LIFECYCLE_QUEUE, body, 0
    client.SendCmqMsg(request)


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
            # The queue the demo hook notifies: its lifecycle actions are the function's own to complete.
            "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE,
            "CLB_UNBIND_ENVELOPE_SECRET": "demo-envelope-secret-not-for-production",
        }
    )
    sys.path.insert(0, str(ROOT / "handler"))
    from index import main_handler

    runs: List[Tuple[str, Any, float]] = []
    timer_lines: List[Dict[str, Any]] = []
    for path in sorted((ROOT / "events").glob("*.json")):
        event = json.loads(path.read_text())
        if isinstance(event, dict) and "requestContext" in event:
            event = sign(event)
        # A fresh emulator per event, so each summary shows what that event alone does to the demo estate.
        proc, endpoint = start_emulator()
        os.environ["CLB_UNBIND_ENDPOINT"] = endpoint
        print(f"\n=== {path.name} (emulator at {endpoint}) ===", flush=True)
        timer = event.get("Type") == "Timer"
        if timer:
            for line in publish_lifecycle(endpoint, estate):
                print(f"--- before the timer run, {line}", flush=True)
            os.environ.update(TIMER_ENV)
        started = time.monotonic()
        tee = Tee(sys.stdout)
        try:
            sys.stdout = tee
            answer: Any = main_handler(event, {"request_id": f"demo-{path.stem}", "time_limit_in_ms": 60000})
            if timer:
                answer = {**answer, "queuesAfter": admin(endpoint, "queues"),
                          "lifecycleAfter": admin(endpoint, "state").get("lifecycleActions")}
        except Exception as exc:  # the function raises when work cannot be queued: show it, go on
            answer = exc
        finally:
            sys.stdout = tee.inner
            if timer:
                timer_lines = tee.json_lines()
            for name in TIMER_ENV:
                os.environ.pop(name, None)
            proc.terminate()
            proc.wait(timeout=10)
        runs.append((path.name, answer, time.monotonic() - started))
    print(summary(runs))
    if timer_lines:
        print(f"\nTimeline of the timer run, drawn from its JSON logs: {draw_timeline(timer_lines)}")
    return 0


class Tee:
    """Stdout for one invocation: printed as it comes, and kept for the picture."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.text: List[str] = []

    def write(self, data: str) -> int:
        self.text.append(data)
        return self.inner.write(data)

    def flush(self) -> None:
        self.inner.flush()

    def json_lines(self) -> List[Dict[str, Any]]:
        return [json.loads(line) for line in "".join(self.text).splitlines() if line.startswith("{")]


def draw_timeline(lines: List[Dict[str, Any]]) -> Path:
    from tools.pictures import timeline_svg

    out = ROOT / "dist" / "demo-timer-timeline.svg"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(timeline_svg(lines, "One timer run of the demo: queue pass, then the sweep"))
    return out


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
        if "queue" in result:
            q = result["queue"]
            lines.append(f"    queue {q['name']}: {q['received']} received in {q['passes']} pass(es), {q['deleted']} deleted, "
                         f"{q['kept']} kept; stopped: {q['stopped']}")
        if "sweep" in result:
            w = result["sweep"]
            lines.append(f"    sweep of {', '.join(w['groups'])}: {w['watched']} members, {w['waiting']} waiting on a terminating hook, "
                         f"reconciled (no notification seen): {', '.join(w['reconciled']) or 'none'}")
        for record in result.get("records", []):
            lines.append(f"    record {record['recordId']}: {record['status']}" + (f" ({record['reason']})" if record.get("reason") else ""))
            for inst in record["instances"]:
                verb = "would unbind" if inst["dryRun"] else "unbound"
                lines.append(f"      {inst['instanceId']}: {inst['status']}" + ("; lifecycle action completed" if inst["lifecycleCompleted"]
                                                                                      else f"; lifecycle action {inst['lifecycle']}" if inst.get("lifecycle") else ""))
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
        if "queuesAfter" in result:
            after = result["queuesAfter"].get(LIFECYCLE_QUEUE, {})
            empty = "empty" if not any(after.values()) else f"NOT empty: {after}"
            lines.append(f"    afterwards: queue {LIFECYCLE_QUEUE} is {empty}; lifecycle actions: "
                         + ", ".join(f"{a['instanceId']} {a.get('result') or 'waiting'}" for a in result["lifecycleAfter"] or []))
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
