"""A CVM-only deployment never pays for ECM: importing the entry point loads no ECM module (the function's
own `cloud/ecm.py`, `resolve_ecm.py` or the ECM SDK package). `make bench` measures the same after a real
CVM-only invocation; this keeps a module-level import from creeping back in between benches."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HANDLER = Path(__file__).resolve().parents[2] / "handler"
PROBE = """
import json, sys
import index  # the entry point SCF loads
from clb_unbind import apply, drain_run, finish, pipeline, process, sweep, timer_run  # noqa: F401
print(json.dumps(sorted(m for m in sys.modules if any(p == "ecm" or p.endswith("_ecm") for p in m.split(".")))))
"""


def test_importing_the_function_loads_no_ecm_module() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=HANDLER, check=True, capture_output=True, text=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
