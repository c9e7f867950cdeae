"""The operator tool against the emulator: the emulator on a free port, the tool's environment pointed
at it exactly as an operator's would be (CLB_UNBIND_ENDPOINT + the SDK's credential variables), and a
package zip standing in for `make package`'s."""
from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

from tests.estates import base_estate

GROUPS = ("asg-ops00001", "asg-ops00002")
LEAVING = "ins-web00001"


def ops_estate() -> Dict[str, Any]:
    """The demo estate without queues (setup makes them) and with two scaling groups; the first holds
    the instance a scale-in takes out."""
    estate = base_estate()
    estate.pop("queues", None)
    estate.pop("lifecycleActions", None)
    estate["scalingGroups"] = [
        {"autoScalingGroupId": GROUPS[0], "instances": [{"instanceId": LEAVING, "lifeCycleState": "IN_SERVICE"}]},
        {"autoScalingGroupId": GROUPS[1]},
    ]
    return estate


def package_zip(path: Path, marker: str = "v1") -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("index.py", f"# {marker}\ndef main_handler(event, context):\n    return {{}}\n")
    path.write_bytes(buf.getvalue())
    return path


@dataclass
class Ops:
    emu: Any
    package: Path

    def run(self, *argv: str) -> Tuple[int, str]:
        from deploy.cli import main

        lines: List[str] = []
        code = main(list(argv), say=lines.append)
        return code, "\n".join(lines)

    def setup(self, *extra: str, groups: Tuple[str, ...] = GROUPS) -> Tuple[int, str]:
        args = ["setup", "--package", str(self.package)]
        for g in groups:
            args += ["--group", g]
        return self.run(*args, *extra)

    def check(self, *extra: str) -> Tuple[int, str]:
        return self.run("check", *extra)

    def writes(self) -> List[Any]:
        from emulator.services import SERVICES

        cmq_writes = {"SendMessage", "BatchSendMessage", "DeleteMessage", "BatchDeleteMessage"}
        return [c for c in self.emu.calls
                if (c.action in cmq_writes if c.service == "cmq" else SERVICES[c.service].actions[c.action].write)]


def operator_shell(emu: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Ops:
    """The operator's shell pointed at this emulator: its credentials and endpoint only, nothing of this
    machine's environment or ~/.tencentcloud profile."""
    import os

    secret_id, secret_key, _ = emu.credentials
    for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_ID", secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRET_KEY", secret_key)
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("HOME", str(tmp_path))
    return Ops(emu, package_zip(tmp_path / "clb-unbind.zip"))


@pytest.fixture
def ops_for(make_emulator: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[Dict[str, Any]], Ops]:
    """The operator's shell pointed at an emulator of this estate."""
    return lambda estate: operator_shell(make_emulator(estate), monkeypatch, tmp_path)


@pytest.fixture
def ops(ops_for: Callable[[Dict[str, Any]], Ops]) -> Ops:
    return ops_for(ops_estate())
