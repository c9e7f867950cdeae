"""The emulator as its own process (`python -m emulator --estate FILE --port 0 ...`), read through its
admin endpoints: the bench process never shares an interpreter (or a GIL) with the emulator."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class EmulatorKnobs:
    task_seconds: float = 0.5
    latency_seconds: float = 0.02
    rate_limit_per_second: int = 20

    def describe(self) -> str:
        return (f"task_seconds={self.task_seconds:g} latency_seconds={self.latency_seconds:g} "
                f"rate_limit_per_second={self.rate_limit_per_second} (per action, all callers together)")


class EmulatorProcess:
    def __init__(self, estate: Dict[str, Any], knobs: EmulatorKnobs) -> None:
        self.estate = estate
        self.knobs = knobs
        fd, self._estate_file = tempfile.mkstemp(prefix="bench-estate-", suffix=".json")
        with os.fdopen(fd, "w") as fh:
            json.dump(estate, fh)
        self.proc: Optional[subprocess.Popen] = None
        self.endpoint = ""

    def __enter__(self) -> "EmulatorProcess":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def start(self) -> str:
        cmd = [sys.executable, "-m", "emulator", "--estate", self._estate_file, "--port", "0",
               "--task-seconds", str(self.knobs.task_seconds), "--latency", str(self.knobs.latency_seconds),
               "--rate-limit", str(self.knobs.rate_limit_per_second)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if "listening on" not in line:
            self.stop()
            raise RuntimeError(f"the emulator did not start: {line!r}")
        self.endpoint = line.rsplit(" ", 1)[-1]
        return self.endpoint

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        try:
            os.unlink(self._estate_file)
        except FileNotFoundError:
            pass

    # -- admin endpoints -----------------------------------------------------------------------------
    def _get(self, name: str) -> Any:
        with urllib.request.urlopen(f"{self.endpoint}/_emulator/{name}", timeout=60) as reply:
            return json.loads(reply.read())

    def _post(self, name: str, body: Dict[str, Any]) -> Any:
        request = urllib.request.Request(f"{self.endpoint}/_emulator/{name}", data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=60) as reply:
            return json.loads(reply.read())

    def calls(self) -> List[Dict[str, Any]]:
        return self._get("calls")

    def queues(self) -> Dict[str, Dict[str, int]]:
        """Visible / in-flight / delayed messages per queue."""
        return self._get("queues")

    def scale_in(self, group_id: str, instance_ids: List[str], publish: bool = True) -> Dict[str, Any]:
        """Auto Scaling starts the group's terminating hooks; with `publish` their notifications go to the queue."""
        return self._post("scale-in", {"groupId": group_id, "instanceIds": instance_ids, "publish": publish})

    def state(self) -> Dict[str, Any]:
        return self._get("state")

    def env(self) -> Dict[str, str]:
        """The environment SCF would give the function, every API call sent to this emulator."""
        cred = self.estate["credentials"][0]
        return {"TENCENTCLOUD_SECRETID": cred["secretId"], "TENCENTCLOUD_SECRETKEY": cred["secretKey"],
                "TENCENTCLOUD_REGION": self.estate.get("region", "ap-guangzhou"), "CLB_UNBIND_ENDPOINT": self.endpoint}


def count_calls(calls: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Calls per `service:Action` (every request that reached the emulator, refused ones included),
    and the refusals per `service:Action:ErrorCode`."""
    by_action: Counter = Counter()
    refused: Counter = Counter()
    for c in calls:
        key = f"{c['service']}:{c['action']}"
        by_action[key] += 1
        if c.get("error_code"):
            refused[f"{key}:{c['error_code']}"] += 1
    return {"by_action": dict(by_action), "refused": dict(refused), "total": sum(by_action.values())}


def check_outcome(state: Dict[str, Any], leaving: List[str], before: Dict[str, Any]) -> List[str]:
    """Problems with the end state: a leaving instance still bound, a staying bind removed, a lifecycle
    action not completed with CONTINUE. Empty when the run did exactly its job."""
    leaving_set = set(leaving)

    def count(estate: Dict[str, Any]) -> Counter:
        out: Counter = Counter()
        for lb in estate.get("loadBalancers") or []:
            for listener in lb.get("listeners") or []:
                lists = [listener.get("targets") or []] + [r.get("targets") or [] for r in listener.get("rules") or []]
                for targets in lists:
                    for t in targets:
                        out["leaving" if t.get("instanceId") in leaving_set else "staying"] += 1
        return out

    problems = []
    now, then = count(state), count(before)
    if now["leaving"]:
        problems.append(f"{now['leaving']} bindings of leaving instances remain")
    if now["staying"] != then["staying"]:
        problems.append(f"staying bindings {then['staying']} -> {now['staying']}")
    results = {a["instanceId"]: a.get("result") for a in state.get("lifecycleActions") or []}
    not_done = [i for i in leaving if results.get(i) != "CONTINUE"]
    if not_done:
        problems.append(f"{len(not_done)} lifecycle actions not completed")
    return problems
