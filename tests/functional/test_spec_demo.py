"""`make demo` under the judge: the demo runs its own emulator process, which journals every call it
judges against Tencent's api.json (TCCLI_SPEC_JOURNAL, set by tests/conftest.py); the autouse judge
fails this test on any violation of the demo's requests or the emulator's replies."""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT


def test_the_demo_runs_and_its_calls_are_judged() -> None:
    from emulator import spec

    path = os.environ["TCCLI_SPEC_JOURNAL"]
    offset = os.path.getsize(path) if os.path.exists(path) else 0
    done = subprocess.run([sys.executable, "-m", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    judged, _ = spec.read_journal_file(path, offset)
    actions = {(o.service, o.action) for o in judged if o.pid != os.getpid()}
    assert {("clb", "BatchDeregisterTargets"), ("as", "CompleteLifecycleAction")} <= actions
