"""Cold import of the function (`import index` in a fresh interpreter) beside its bare dependencies.

Each figure is the median over fresh interpreters of the time from just before the import statement
to just after it (`time.perf_counter()` inside the child), so the interpreter's own start, the same
for both sides, is left out of the ratio. Child processes alternate between the sides so drift on a
busy machine hits both alike. `.pyc` files are used as usual (they exist after the first run); the
"no .pyc" rows compile every module from source each time (an empty `PYTHONPYCACHEPREFIX` and no
bytecode writing), as a zip without `__pycache__` would on SCF.

"Bare" (the goal's denominator) imports exactly the three top-level packages the issue names, in
one statement: `import tencentcloud.common, pydantic, pythonjsonlogger`. That loads
`tencentcloud/__init__.py` and `tencentcloud/common/__init__.py` (both nearly empty), pydantic's
package (lazy: `pydantic_core` and `pydantic.version`, not `pydantic.main`), and
`pythonjsonlogger/__init__.py`. A second denominator, "deps index loads", imports every
site-packages module that `import index` ends up loading (found by listing `sys.modules` after
`import index`), without the function's code: what is left of `import index` after it is the
function's own module bodies (mostly class and model definitions).
"""
from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .emulator_process import ROOT

HANDLER = ROOT / "handler"
BARE = ("tencentcloud.common", "pydantic", "pythonjsonlogger")


@dataclass
class ImportTimes:
    samples: Dict[str, List[float]] = field(default_factory=dict)
    process_samples: Dict[str, List[float]] = field(default_factory=dict)
    deps_of_index: List[str] = field(default_factory=list)
    top_own_modules: List[Tuple[str, float, float]] = field(default_factory=list)  # (module, self s, cumulative s)
    third_party_by_own: List[Tuple[str, float, str]] = field(default_factory=list)  # (module, cumulative s, importer)
    runs: int = 0

    def median(self, name: str) -> float:
        return statistics.median(self.samples[name])

    def process_median(self, name: str) -> float:
        return statistics.median(self.process_samples[name])


def _child(statement: str, no_pyc_dir: Optional[str] = None) -> Tuple[float, float]:
    code = f"import sys, time; sys.path.insert(0, {str(HANDLER)!r}); t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHONPYCACHEPREFIX", "PYTHONDONTWRITEBYTECODE"))}
    if no_pyc_dir is not None:
        env["PYTHONPYCACHEPREFIX"] = no_pyc_dir
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1]), time.perf_counter() - started


def deps_of_index() -> List[str]:
    code = (f"import sys, json; sys.path.insert(0, {str(HANDLER)!r}); before = set(sys.modules); import index; "
            "print(json.dumps(sorted(n for n, m in list(sys.modules.items()) "
            "if n not in before and 'site-packages' in (getattr(m, '__file__', None) or ''))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _own(name: str) -> bool:
    return name == "index" or name.split(".")[0] == "clb_unbind"


def importtime_rows() -> List[Tuple[str, float, float, int]]:
    """`-X importtime` of one `import index`: (module, self s, cumulative s, nesting level), in the
    order Python prints them (a module after everything it imported)."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import sys; sys.path.insert(0, {str(HANDLER)!r}); import index"],
                         cwd=str(ROOT), capture_output=True, text=True, check=True)
    rows = []
    for line in out.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)) / 1e6, int(m.group(2)) / 1e6, len(m.group(3))))
    return rows


def own_module_times(rows: List[Tuple[str, float, float, int]], top: int = 6) -> List[Tuple[str, float, float]]:
    """The function's own modules by self time."""
    own = [(n, s, c) for n, s, c, _ in rows if _own(n)]
    return sorted(own, key=lambda r: -r[1])[:top]


def third_party_imported_by_own(rows: List[Tuple[str, float, float, int]], top: int = 5) -> List[Tuple[str, float, str]]:
    """Third-party modules a module of the function imported itself, by cumulative time:
    (module, cumulative s, the function's module that imported it)."""
    found = []
    for i, (name, _, cum, level) in enumerate(rows):
        if _own(name):
            continue
        parent = next((rows[j][0] for j in range(i + 1, len(rows)) if rows[j][3] < level), "")
        if _own(parent) and name.split(".")[0] not in sys.stdlib_module_names:
            found.append((name, cum, parent))
    return sorted(found, key=lambda r: -r[1])[:top]


def measure(runs: int = 9, no_pyc_runs: int = 3) -> ImportTimes:
    result = ImportTimes(runs=runs)
    result.deps_of_index = deps_of_index()
    statements = {
        "index": "import index",
        "bare": "import " + ", ".join(BARE),
        "deps index loads": "; ".join(f"import {m}" for m in result.deps_of_index) or "pass",
        "empty": "pass",
    }
    for name in statements:
        result.samples[name] = []
        result.process_samples[name] = []
    _child(statements["index"])  # writes any missing .pyc once, outside the samples
    for _ in range(runs):
        for name, statement in statements.items():
            inside, process = _child(statement)
            result.samples[name].append(inside)
            result.process_samples[name].append(process)
    for name in ("index", "bare"):
        key = f"{name} (no .pyc)"
        result.samples[key] = []
        result.process_samples[key] = []
        for _ in range(no_pyc_runs):
            with tempfile.TemporaryDirectory(prefix="bench-nopyc-") as empty:
                inside, process = _child(statements[name], no_pyc_dir=empty)
            result.samples[key].append(inside)
            result.process_samples[key].append(process)
    rows = importtime_rows()
    result.top_own_modules = own_module_times(rows)
    result.third_party_by_own = third_party_imported_by_own(rows)
    return result


def modules_loaded_by(statement: str) -> List[str]:
    """Helper for ad-hoc checks: modules a statement loads in a fresh interpreter."""
    code = f"import sys, json; sys.path.insert(0, {str(HANDLER)!r}); before = set(sys.modules); {statement}; print(json.dumps(sorted(set(sys.modules) - before)))"
    out = subprocess.run([sys.executable, "-c", code], cwd=str(ROOT), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)
