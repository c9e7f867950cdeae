"""Own process (`python -m emulator`), admin endpoints, and estate validation."""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from emulator import Emulator, EstateError

from .conftest import ESTATE, Cloud

ROOT = Path(__file__).resolve().parents[2]


def test_cli_serves_and_admin_endpoints_work() -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--estate", str(ESTATE), "--port", "0",
                             "--task-seconds", "0.01"], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("emulator listening on http://127.0.0.1:")
        base = line.rsplit(" ", 1)[1]
        state = requests.get(base + "/_emulator/state", timeout=5).json()
        assert {lb["loadBalancerId"] for lb in state["loadBalancers"]} == {"lb-aaaa1111", "lb-bbbb2222", "lb-cccc3333"}
        assert state["knobs"]["task_seconds"] == 0.01
        knobs = requests.post(base + "/_emulator/knobs", data=json.dumps({"latency_seconds": 0.01}), timeout=5).json()
        assert knobs["latency_seconds"] == 0.01
        assert requests.post(base + "/_emulator/knobs", data=json.dumps({"nope": 1}), timeout=5).status_code == 400
        assert requests.get(base + "/_emulator/messages", params={"queue": "clb-unbind-retry"}, timeout=5).json() == []
        assert requests.get(base + "/_emulator/calls", timeout=5).json() == []
        binds = requests.get(base + "/_emulator/bindings", params={"target": "ins-leave001"}, timeout=5).json()
        assert len(binds) == 4
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_admin_endpoints_in_process(cloud: Cloud) -> None:
    cloud.call("tdmq", "SendCmqMsg", {"QueueName": "clb-unbind-retry", "MsgContent": "hello", "DelaySeconds": 5})
    base = cloud.emu.endpoint
    (msg,) = requests.get(base + "/_emulator/messages?queue=clb-unbind-retry", timeout=5).json()
    assert msg["body"] == "hello" and msg["delaySeconds"] == 5
    (call,) = requests.get(base + "/_emulator/calls", timeout=5).json()
    assert call["action"] == "SendCmqMsg" and call["service"] == "tdmq" and call["error_code"] is None
    assert requests.post(base + "/_emulator/lock", data=json.dumps({"loadBalancerId": "lb-aaaa1111", "seconds": 5}),
                         timeout=5).status_code == 200
    assert cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "InstanceId": "ins-leave001"}]}).code == "FailedOperation.ResourceInOperating"
    assert cloud.emu.count("BatchDeregisterTargets") == 1 and cloud.emu.count("SendCmqMsg", service="tdmq") == 1


def test_estate_snapshot_reloads(emu: Emulator) -> None:
    snap = emu.state()
    for c in snap["credentials"]:
        c["secretKey"], c["token"] = "k", None
    snap["queues"] = [q["name"] for q in snap["queues"]]
    for key in ("tasks", "knobs", "endpoint"):
        snap.pop(key)
    for a in snap["lifecycleActions"]:
        a.pop("completions")
    again = Emulator(snap)
    assert again.bindings("ins-leave001") == emu.bindings("ins-leave001")


@pytest.mark.parametrize("mutate, needle", [
    (lambda d: d["instances"][0].update(colour="red"), "unknown key"),
    (lambda d: d["instances"][0].update(instanceId="i-1"), "well-formed"),
    (lambda d: d["loadBalancers"][0]["listeners"][1].update(targets=[{"privateIp": "10.0.0.6", "port": 1}]), "only under rules"),
    (lambda d: d["loadBalancers"][0]["listeners"][0]["targets"].append(
        {"type": "cvm", "instanceId": "ins-leave001", "privateIp": "10.0.0.14", "port": 1}), "use type 'eni'"),
    (lambda d: d.update(credentials=[]), "at least one credential"),
])
def test_bad_estates_fail_loudly(mutate, needle) -> None:
    doc = json.loads(ESTATE.read_text())
    doc = copy.deepcopy(doc)
    mutate(doc)
    with pytest.raises(EstateError, match=needle):
        Emulator(doc)
