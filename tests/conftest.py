"""Shared fixtures: the emulator on a free loopback port, and the function's environment pointed at it."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT / "handler", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

EVENTS = ROOT / "events"
DEMO_ESTATE = ROOT / "emulator" / "estates" / "demo.json"


def load_event(name: str) -> Dict[str, Any]:
    return json.loads((EVENTS / name).read_text())


def point_function_at(emu: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The function's environment for an emulator: its endpoint and its credentials, no session token."""
    secret_id, secret_key, _ = emu.credentials
    for name, value in (("CLB_UNBIND_ENDPOINT", emu.endpoint), ("TENCENTCLOUD_SECRETID", secret_id),
                        ("TENCENTCLOUD_SECRETKEY", secret_key)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TENCENTCLOUD_SESSIONTOKEN", raising=False)
    return emu


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


# ------------------------------------------------------------------------ Tencent's API spec as judge
# Every API 3.0 call an emulator judges (emulator/spec.py) lands in its journal: this process's list,
# and a file that emulators run as their own process (bench, demo, operator tool tests) append to.
# A test fails at teardown listing the violations of the calls made during it: reply problems always
# (an emulator bug), request problems in the directories below, where the project's own code sends
# them (the emulator's own tests send malformed requests on purpose).
JUDGED_DIRS = ("functional", "deploy", "bench", "chaos")
_SPEC_DIR = Path(__import__("tempfile").mkdtemp(prefix="tccli-spec-journal-"))
# One file per test process (pytest-xdist runs several): a test reads only what its own emulators wrote.
os.environ["TCCLI_SPEC_JOURNAL"] = str(_SPEC_DIR / f"journal-{os.getpid()}.jsonl")


class SpecCoverage:
    """What the judged tests had checked against api.json, for the summary (docs/testing-spec.md)."""

    def __init__(self) -> None:
        self.actions: set = set()
        self.request_members: set = set()
        self.reply_members: set = set()
        self.nulled: set = set()
        self.examples: Dict[tuple, tuple] = {}
        self.calls = 0

    def add(self, observations: List[Any]) -> None:
        for o in observations:
            self.calls += 1
            key = (o.service, o.version, o.action)
            self.actions.add(key)
            self.request_members.update(key + (m,) for m in o.request_members)
            self.reply_members.update(key + (m,) for m in o.reply_members)
            self.nulled.update(key + (m,) for m in o.nulled)
            if o.example is not None:
                self.examples[(o.service, o.action)] = o.example_problems


SPEC_COVERAGE = SpecCoverage()


@pytest.fixture(autouse=True)
def tencent_api_spec_judge(request: pytest.FixtureRequest) -> Iterator[None]:
    from emulator import spec

    path = os.environ["TCCLI_SPEC_JOURNAL"]
    start = len(spec.JOURNAL)
    offset = os.path.getsize(path) if os.path.exists(path) else 0
    yield
    mine = spec.JOURNAL[start:]
    del spec.JOURNAL[start:]
    others, _ = spec.read_journal_file(path, offset)
    observations = mine + [o for o in others if o.pid != os.getpid()]
    judged = Path(str(request.node.fspath)).resolve().parent.name in JUDGED_DIRS
    problems = [f"reply of {o.service} {o.action}: {p}" for o in observations for p in o.reply_problems]
    if judged:
        SPEC_COVERAGE.add(observations)
        problems += [f"request {o.service} {o.action}: {p}" for o in observations for p in o.request_problems]
    if problems:
        unique = list(dict.fromkeys(problems))
        pytest.fail(f"{len(unique)} violation(s) of Tencent's api.json ({spec.tccli_spec.VERSION}):\n  " + "\n  ".join(unique[:50]),
                    pytrace=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Printed by the process that ran the tests: run with `-n 0` (no xdist workers) to see it."""
    c = SPEC_COVERAGE
    if not c.calls:
        return
    terminalreporter.write_line(
        f"api.json judge: {c.calls} calls of {len(c.actions)} actions; {len(c.request_members)} request members and "
        f"{len(c.reply_members)} reply members checked; {len(c.nulled)} nullable members answered null")
    if c.nulled:
        terminalreporter.write_line("  answered null: " + ", ".join(f"{s}:{a}.{m}" for s, _, a, m in sorted(c.nulled)))
    if c.examples:
        fit = sorted(f"{s}:{a}" for (s, a), p in c.examples.items() if not p)
        misfit = {f"{s}:{a}": p for (s, a), p in sorted(c.examples.items()) if p}
        terminalreporter.write_line(f"examples.json replies met by our reading code: {len(c.examples)} actions; "
                                    f"fit api.json and the SDK model: {', '.join(fit) or 'none'}")
        unmet = sorted({f"{s}:{a}" for s, _, a in c.actions} - {f"{s}:{a}" for s, a in c.examples})
        if unmet:
            terminalreporter.write_line(f"  called but never answered by their example: {', '.join(unmet)}")
        for name, problems in misfit.items():
            terminalreporter.write_line(f"  example of {name} does not fit: {'; '.join(problems[:5])}")
