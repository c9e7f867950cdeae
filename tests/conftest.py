"""Shared fixtures: the emulator on a free loopback port, and the function's environment pointed at it."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "handler", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

EVENTS = ROOT / "events"
DEMO_ESTATE = ROOT / "emulator" / "estates" / "demo.json"


def load_event(name: str) -> Dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def make_emulator() -> Iterator[Callable[..., Any]]:
    """Start an emulator on a free loopback port for an estate (default: tests/estates.base_estate)."""
    from emulator import Emulator, Knobs

    from tests.estates import base_estate

    started: list = []

    def start(estate: Any = None, **knobs: Any) -> Any:
        emu = Emulator(estate or base_estate(), knobs=Knobs(**{"task_seconds": 0.02, **knobs}))
        emu.start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def emulator(make_emulator: Callable[..., Any]) -> Any:
    return make_emulator()


@pytest.fixture
def function_env(emulator: Any, monkeypatch: pytest.MonkeyPatch) -> Dict[str, str]:
    """The environment SCF would give the function, with every API call sent to the emulator."""
    secret_id, secret_key, token = emulator.credentials
    env = {
        "TENCENTCLOUD_SECRETID": secret_id,
        "TENCENTCLOUD_SECRETKEY": secret_key,
        "TENCENTCLOUD_REGION": "ap-guangzhou",
        "CLB_UNBIND_ENDPOINT": emulator.endpoint,
        "CLB_UNBIND_TASK_POLL_SECONDS": "0.02",
        "CLB_UNBIND_API_SECRET": "test-api-secret-do-not-use",
    }
    if token:
        env["TENCENTCLOUD_SESSIONTOKEN"] = token
    for name in [k for k in list(__import__("os").environ) if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def invoke(function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Dict[str, Any]]:
    """Call `main_handler` as SCF would, with extra environment variables for this call."""
    from index import main_handler

    def call(event: Any, timeout_ms: int = 30000, **env: str) -> Dict[str, Any]:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        context = {"request_id": "test-request", "function_name": "clb-unbind", "time_limit_in_ms": timeout_ms, "memory_limit_in_mb": 128}
        return main_handler(event, context)

    return call
