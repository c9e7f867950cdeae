"""Tencent's example replies (tccli's examples.json) through the operator tool's own reading code: for
each action `setup`, `check` and `teardown` call, one run where that action answers with its documented example
(knob `spec_example_actions`; tests/functional/test_spec_examples.py does the same for the function).
Nothing may raise; the exit code may say the example's account differs from what setup made."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, List

import pytest

from tests.deploy.conftest import GROUPS, operator_shell, ops_estate, package_zip


def drift(emu: Any) -> None:
    from emulator import deployment

    dep = deployment.of_emulator(emu)
    role = dep.roles.get("clb-unbind-role")
    policy = dep.policy_by_name("clb-unbind-policy")
    if role is None or policy is None:  # an example answered for the role or policy: setup made none
        return
    role.document = ('{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow",'
                     '"principal":{"service":["cvm.qcloud.com"]}}]}')
    policy.document = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["clb:DescribeLBListeners"],
                                                                   "resource": ["*"]}]})
    other = deployment.Policy(dep.next_id(), "someone-elses", '{"version":"2.0","statement":[]}', "")
    dep.policies[other.policy_id] = other
    role.attached.append(other.policy_id)


def run(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **knobs: Any) -> List[Any]:
    from emulator import spec

    emu = make_emulator(ops_estate(), **knobs)
    ops = operator_shell(emu, monkeypatch, tmp_path)
    start = len(spec.JOURNAL)
    # The second setup changes a setting (and reads what the first made), the third the code and the role.
    for extra in ((), ("--timeout", "600")):
        code, out = ops.setup(*extra, groups=GROUPS)
        assert isinstance(code, int), out
    ops.package = package_zip(tmp_path / "clb-unbind.zip", marker="v2")
    drift(emu)  # then the role: its trust, its policy's actions, a policy that is not ours
    code, out = ops.setup(groups=GROUPS)
    assert isinstance(code, int), out
    code, out = ops.check()
    assert isinstance(code, int), out
    code, out = ops.run("teardown", "--yes")
    assert isinstance(code, int), out
    return [o for o in spec.JOURNAL[start:] if o.service != "cmq"]


def test_every_action_setup_check_and_teardown_call_copes_with_tencents_example_reply(
        make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    called = sorted({f"{o.service}:{o.action}" for o in run(make_emulator, monkeypatch, tmp_path)})
    assert len(called) >= 10
    missed = []
    for name in called:
        seen = run(make_emulator, monkeypatch, tmp_path, spec_examples=True, spec_example_actions=[name])
        if not any(o.example is not None for o in seen if f"{o.service}:{o.action}" == name):
            missed.append(name)
    assert missed == [], f"actions whose example reply never reached the operator tool: {missed}"
