"""setup and check as an operator runs them: the emulator as its own process, the tool as a command
(`python -m deploy setup`, then `make check`), nothing shared but CLB_UNBIND_ENDPOINT and credentials."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from deploy.invariants import INVARIANTS
from tests.deploy.conftest import GROUPS, ops_estate, package_zip

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[str]:
    estate = tmp_path / "estate.json"
    estate.write_text(json.dumps(ops_estate()))
    proc = subprocess.Popen([sys.executable, "-m", "emulator", "--estate", str(estate), "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("emulator listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="make check runs .venv's Python: run via make test")
def test_python_m_deploy_setup_then_make_check(emulator_process: str, tmp_path: Path) -> None:
    secret_id, secret_key = ops_estate()["credentials"][0]["secretId"], ops_estate()["credentials"][0]["secretKey"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))}
    env.update(CLB_UNBIND_ENDPOINT=emulator_process, TENCENTCLOUD_SECRET_ID=secret_id, TENCENTCLOUD_SECRET_KEY=secret_key,
               HOME=str(tmp_path))
    package = package_zip(tmp_path / "clb-unbind.zip")
    groups = [a for g in GROUPS for a in ("--group", g)]
    setup = subprocess.run([sys.executable, "-m", "deploy", "setup", *groups, "--package", str(package)], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert setup.returncode == 0, setup.stdout + setup.stderr
    # -o: the venv is the one running this test; make must not reinstall it mid-run.
    check = subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", "check", f"GROUPS={' '.join(GROUPS)}",
                            "JSON=1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    rows = json.loads(check.stdout.strip().splitlines()[-1])
    assert len(rows) == len(INVARIANTS) and all(r["ok"] for r in rows)
    again = subprocess.run([sys.executable, "-m", "deploy", "setup", *groups, "--package", str(package), "--dry-run"],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "0 write call(s) planned" in again.stdout


def _make(*args: str, env: dict, timeout: int = 120) -> subprocess.CompletedProcess:
    # -o: the venv is the one running this test; make must not reinstall it mid-run.
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="make runs .venv's Python: run via make test")
def test_make_variables_reach_the_tool_quoted_and_are_validated(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))}
    env.update(HOME=str(tmp_path), CLB_UNBIND_ENDPOINT="http://127.0.0.1:9")
    for variable in ("GROUPS", "REGION", "FUNCTION"):
        for target in ("setup", "check"):
            done = _make(target, f"{variable}=x;touch {marker}", env=env)
            assert not marker.exists(), (target, variable)
            assert done.returncode != 0 and "is not valid" in done.stdout, (target, variable, done.stdout + done.stderr)
            assert f"make {target}: the command exited 2" in done.stderr
    _make("check", f"GROUPS=`touch {marker}`", env=env)
    assert not marker.exists()


@pytest.mark.skipif(not (ROOT / ".venv" / "bin" / "python").exists(), reason="make runs .venv's Python: run via make test")
def test_make_check_json_prints_the_array_alone_and_the_status_of_a_violation(emulator_process: str, tmp_path: Path) -> None:
    secret_id, secret_key = ops_estate()["credentials"][0]["secretId"], ops_estate()["credentials"][0]["secretKey"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))}
    env.update(CLB_UNBIND_ENDPOINT=emulator_process, TENCENTCLOUD_SECRET_ID=secret_id, TENCENTCLOUD_SECRET_KEY=secret_key,
               HOME=str(tmp_path))
    done = _make("check", f"GROUPS={GROUPS[0]}", "JSON=1", env=env)
    rows = json.loads(done.stdout)  # nothing else on stdout: no echoed command
    assert isinstance(rows, list) and not all(r["ok"] for r in rows)
    assert "make check: the command exited 1" in done.stderr
