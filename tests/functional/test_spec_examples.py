"""Tencent's example replies (tccli's examples.json) through the function's own reading code.

With the knob `spec_examples`, the emulator does the work and then answers with the documented example
reply of the action (RequestId replaced). One action at a time (`spec_example_actions`), every event
the function serves runs (tests/functional/test_contracts.py `run_everything`), so each action's example
reaches the code that reads it: nothing may raise, and each action the function calls must have met its
example. What an example itself does not fit (SDK model, api.json) is listed in the session summary,
not failed: it is Tencent's reply, and the question is whether ours copes.
"""
from __future__ import annotations

from typing import Any, Callable, List

import pytest

from tests.functional.test_contracts import run_everything


def run(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, invoke: Any, **knobs: Any) -> List[Any]:
    from emulator import spec

    emulator = make_emulator(**knobs)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
    start = len(spec.JOURNAL)
    run_everything(emulator, invoke)  # raises if the reading code cannot take an example
    return [o for o in spec.JOURNAL[start:] if o.service != "cmq"]


def test_every_action_the_function_calls_copes_with_tencents_example_reply(
        make_emulator: Callable[..., Any], function_env: Any, monkeypatch: pytest.MonkeyPatch, invoke: Any) -> None:
    monkeypatch.setenv("CLB_UNBIND_RETRY_QUEUE", "clb-unbind-retry")
    called = sorted({f"{o.service}:{o.action}" for o in run(make_emulator, monkeypatch, invoke)})
    assert len(called) >= 12
    missed = []
    for name in called:
        seen = run(make_emulator, monkeypatch, invoke, spec_examples=True, spec_example_actions=[name])
        if not any(o.example is not None for o in seen if f"{o.service}:{o.action}" == name):
            missed.append(name)
    assert missed == [], f"actions whose example reply never reached the function: {missed}"
