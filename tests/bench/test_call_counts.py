"""The deterministic part of `make bench`, on small versions of its workloads (a)-(c): the exact calls
per action the function makes, against the bench's own lower bound. No wall-clock assertion.

Tasks take no time here (`task_seconds=0`); CLB BatchDeregisterTargets is synchronous (no
DescribeTaskStatus after it); the emulator runs in this process.
"""
from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from bench.emulator_process import check_outcome
from bench.estates import LIFECYCLE_QUEUE, Shape, build_estate, call_bound, cmq_event, tasks_per_lb, wall_bound
from bench.workloads import WORKLOADS
from tools import package

SMALL = {
    # (a) one instance, L4 and L7 binds on 3 of 5 load balancers
    "a": (Shape(leaving=1, load_balancers=5, bound_on=3, rules_per_l7=2), 1),
    # (b) one instance in an account larger than one DescribeLoadBalancers page
    "b": (Shape(leaving=1, load_balancers=120, bound_on=2), 1),
    # (c) one CMQ event of 4 lifecycle records, 3 shared load balancers
    "c": (Shape(leaving=4, load_balancers=6, bound_on=3), 4),
}


def counts(emu: Any) -> Dict[str, int]:
    return dict(Counter(f"{c.service}:{c.action}" for c in emu.calls))


def start(make_emulator: Any, monkeypatch: pytest.MonkeyPatch, shape: Shape) -> Tuple[Any, Dict[str, Any], Dict[str, str]]:
    estate = build_estate(shape)
    emu = make_emulator(estate, task_seconds=0.0)
    before = emu.state()
    secret_id, secret_key, _ = emu.credentials
    env = {"TENCENTCLOUD_SECRETID": secret_id, "TENCENTCLOUD_SECRETKEY": secret_key, "TENCENTCLOUD_REGION": "ap-guangzhou",
           "CLB_UNBIND_ENDPOINT": emu.endpoint, "CLB_UNBIND_TASK_POLL_SECONDS": "0.05", "CLB_UNBIND_QUEUE": LIFECYCLE_QUEUE}
    for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return emu, before, env


@pytest.mark.parametrize("key", sorted(SMALL))
def test_handler_makes_exactly_the_bound(key: str, make_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shape, notices = SMALL[key]
    emu, before, _ = start(make_emulator, monkeypatch, shape)
    from index import main_handler

    answer = main_handler(cmq_event(list(range(notices))), {"request_id": f"bench-{key}", "time_limit_in_ms": 60000})

    assert [i["status"] for r in answer["records"] for i in r["instances"]] == ["unbound"] * notices
    assert check_outcome(emu.state(), shape.leaving_ids(), before) == []
    assert counts(emu) == call_bound(shape, notices)
    assert answer["apiCalls"] == call_bound(shape, notices)


@pytest.mark.parametrize("key", ["a", "c"])
def test_naive_strategy_scans_and_unbinds_per_listener(key: str, make_emulator: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.naive import main_handler as naive

    shape, notices = SMALL[key]
    emu, before, env = start(make_emulator, monkeypatch, shape)

    naive(cmq_event(list(range(notices))), env, poll_seconds=0.01)

    assert check_outcome(emu.state(), shape.leaving_ids(), before) == []
    deregister = notices * shape.bound_on * shape.lists_per_lb * math.ceil(shape.ports / 20)
    assert counts(emu) == {
        "clb:DescribeLoadBalancers": notices * math.ceil(shape.load_balancers / 100),
        "clb:DescribeTargets": notices * shape.load_balancers,
        "clb:DeregisterTargets": deregister,
        "clb:DescribeTaskStatus": deregister,
        "as:CompleteLifecycleAction": notices,
    }


def test_bounds_of_the_full_workloads() -> None:
    a, c, d, e = (WORKLOADS[k] for k in "acde")
    assert a.call_bound() == {"cvm:DescribeInstances": 1, "clb:DescribeLBListeners": 2, "clb:BatchDeregisterTargets": 3,
                              "clb:DescribeTargetGroupInstances": 1, "clb:DescribeClassicalLBByInstanceId": 1,
                              "vpc:DescribeNetworkInterfaces": 1,
                              "as:DescribeAutoScalingInstances": 1, "as:DescribeLifecycleHooks": 1,
                              "as:CompleteLifecycleAction": 1}
    assert sum(c.call_bound().values()) == 1 + 2 + 2 + 2 + 5 + 1 + 1 + 10
    assert sum(c.call_bound(verify=False).values()) == 1 + 1 + 2 + 2 + 5 + 1 + 1 + 10
    assert e.shape.bindings_per_instance == 1000 and e.call_bound()["clb:BatchDeregisterTargets"] == 2
    assert d.tasks_per_lb() == tasks_per_lb(d.shape, 40, 1) == 40
    assert wall_bound(d.shape, 40, 1, task_seconds=0.5, latency=0.02) == pytest.approx(40 * 0.5 * d.shape.bindings_per_instance_per_lb / 500)
    assert wall_bound(d.shape, 40, 1, task_seconds=0.5, latency=0.02, rate_limit=20) == pytest.approx(160 / 20 - 1)
    assert wall_bound(a.shape, 1, 1, task_seconds=0.5, latency=0.02) == pytest.approx(7 * 0.02)
    assert wall_bound(e.shape, 1, 1, task_seconds=0.5, latency=0.02) == pytest.approx(8 * 0.02 + 0.5)


def test_estates_have_the_described_bindings() -> None:
    shape = WORKLOADS["e"].shape
    estate = build_estate(shape)
    leaving = sum(1 for lb in estate["loadBalancers"] for listener in lb["listeners"]
                  for targets in [listener.get("targets") or []] + [r["targets"] for r in listener.get("rules") or []]
                  for t in targets if t["instanceId"] == "ins-lv000000")
    assert leaving == 1000


# -- the deploy package (no pip: only the parts that shape the tree) ---------------------------------
def test_runtime_comes_from_serverless_yml() -> None:
    assert package.runtime_python_version() == "3.10"


def test_handler_copy_has_no_bytecode(tmp_path: Path) -> None:
    package.copy_handler(tmp_path)
    assert (tmp_path / "index.py").is_file() and (tmp_path / "clb_unbind" / "app.py").is_file()
    assert not [p for p in tmp_path.rglob("*") if p.name == "__pycache__" or p.suffix == ".pyc"]
    assert "missing pydantic" in package.check_contents(tmp_path)


def test_prune_keeps_licences_and_metadata(tmp_path: Path) -> None:
    files: List[str] = [
        "bin/normalizer", "lib/__pycache__/x.cpython-311.pyc", "lib/x.py", "lib/x.pyi", "lib/py.typed",
        "a-1.dist-info/RECORD", "a-1.dist-info/INSTALLER", "a-1.dist-info/REQUESTED", "a-1.dist-info/METADATA",
        "a-1.dist-info/licenses/LICENSE", "a-1.dist-info/entry_points.txt",
        "b-1.dist-info/entry_points.txt", "b-1.dist-info/LICENSE.txt", "b-1.dist-info/WHEEL",
    ]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "a-1.dist-info/entry_points.txt").write_text("[console_scripts]\na = a:main\n")
    (tmp_path / "b-1.dist-info/entry_points.txt").write_text("[pydantic]\nplugin = b:plugin\n")

    package.prune(tmp_path)

    left = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["a-1.dist-info/METADATA", "a-1.dist-info/licenses/LICENSE", "b-1.dist-info/LICENSE.txt",
                    "b-1.dist-info/WHEEL", "b-1.dist-info/entry_points.txt", "lib/x.py"]


def test_mixed_estate_makes_exactly_the_bound_of_each_kind() -> None:
    """(j): direct, v1 group, v2 group, classic, secondary IP, ten instances, one invocation."""
    from bench.emulator_process import EmulatorKnobs
    from bench.mixed import bound, run_mixed

    result = run_mixed(EmulatorKnobs(task_seconds=0.05, latency_seconds=0.0, rate_limit_per_second=0))
    assert result.problems == [] and set(result.statuses) == {"unbound"}
    assert result.calls["by_action"] == bound()
