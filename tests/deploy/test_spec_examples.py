"""Tencent's example replies (tccli's examples.json) through the operator tool's own reading code: for
each action `setup` and `check` call, one run where that action answers with its documented example
(knob `spec_example_actions`; tests/functional/test_spec_examples.py does the same for the function).
Nothing may raise; the exit code may say the example's account differs from what setup made."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, List

import pytest

from tests.deploy.conftest import GROUPS, Ops, ops_estate, package_zip


def run(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **knobs: Any) -> List[Any]:
    from emulator import spec

    emu = make_emulator(ops_estate(), **knobs)
    secret_id, secret_key, _ = emu.credentials
    for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", secret_key)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("HOME", str(tmp_path))
    ops = Ops(emu, package_zip(tmp_path / "clb-unbind.zip"))
    start = len(spec.JOURNAL)
    for _ in range(2):  # the second setup reads what the first made
        code, out = ops.setup(groups=GROUPS)
        assert isinstance(code, int), out
    code, out = ops.check()
    assert isinstance(code, int), out
    return [o for o in spec.JOURNAL[start:] if o.service != "cmq"]


def test_every_action_setup_and_check_call_copes_with_tencents_example_reply(
        make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    called = sorted({f"{o.service}:{o.action}" for o in run(make_emulator, monkeypatch, tmp_path)})
    assert len(called) >= 10
    missed = []
    for name in called:
        seen = run(make_emulator, monkeypatch, tmp_path, spec_examples=True, spec_example_actions=[name])
        if not any(o.example is not None for o in seen if f"{o.service}:{o.action}" == name):
            missed.append(name)
    assert missed == [], f"actions whose example reply never reached the operator tool: {missed}"
