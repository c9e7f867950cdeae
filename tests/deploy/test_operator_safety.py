"""What the operator tools refuse to do: leak a secret, send a name the cloud would misread, stop with a
traceback when no credentials are found."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import GROUPS, Ops, package_zip
from tests.estates import base_estate

ROOT = Path(__file__).resolve().parents[2]


def test_a_cloud_error_echoing_the_token_and_secret_id_is_scrubbed(make_emulator: Any, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """A gateway page that echoes the request headers (X-TC-Token, and the Authorization header with the
    SecretId) answers setup's first write; neither value may reach the tool's output."""
    from tests.deploy.conftest import ops_estate

    emu = make_emulator(ops_estate(), drop_reply_rate=1.0, drop_reply_mode="http502_echo")
    temp = base_estate()["credentials"][1]
    for name in [k for k in os.environ if k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_"))]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", temp["secretId"])
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", temp["secretKey"])
    monkeypatch.setenv("TENCENTCLOUD_SESSIONTOKEN", temp["token"])
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emu.endpoint)
    monkeypatch.setenv("HOME", str(tmp_path))
    ops = Ops(emu, package_zip(tmp_path / "clb-unbind.zip"))
    code, out = ops.setup()
    assert code == 1 and "502" in out, out  # the echo page reached the tool: it is what is printed
    assert "X-TC-Token" in out or "x-tc-token" in out.lower(), out
    for secret in (temp["secretId"], temp["secretKey"], temp["token"]):
        assert secret not in out


@pytest.mark.parametrize("argv, words", [
    (["setup", "--group", "asg-a;touch"], "--group 'asg-a;touch'"),
    (["setup", "--group", GROUPS[0], "--region", "ap-guangzhou; rm -rf /"], "--region"),
    (["check", "--function", "clb unbind"], "--function"),
    (["setup", "--group", GROUPS[0], "--queue", "1queue"], "--queue"),
    (["setup", "--group", GROUPS[0], "--dead-letter-queue", "dlq$(id)"], "--dead-letter-queue"),
    (["check", "--group", "asg-UPPER123"], "--group"),
])
def test_a_bad_name_is_a_usage_error_before_any_call(ops: Ops, argv: list, words: str) -> None:
    ops.emu.clear_calls()
    code, out = ops.run(*argv, *(["--package", str(ops.package)] if argv[0] == "setup" else []))
    assert code == 2 and words in out and "is not valid" in out, out
    assert len(out.splitlines()) == 1
    assert ops.emu.calls == []


def test_no_credentials_anywhere_is_one_line_and_exit_2_for_every_tool(tmp_path: Path) -> None:
    """No variable, no profile, outside TKE (the SDK's chain then raises OSError 'TKE_REGION not exist')."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLB_UNBIND_", "TENCENTCLOUD_", "TKE_"))}
    env.update(HOME=str(tmp_path), CLB_UNBIND_ENDPOINT="http://127.0.0.1:9", PYTHONPATH=str(ROOT / "handler"))
    package = package_zip(tmp_path / "p.zip")
    runs = {
        "setup": [sys.executable, "-m", "deploy", "setup", "--group", GROUPS[0], "--package", str(package)],
        "check": [sys.executable, "-m", "deploy", "check"],
        "cli": [sys.executable, "-m", "clb_unbind", "invoke", str(ROOT / "events" / "direct.json")],
    }
    for name, argv in runs.items():
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        text = (done.stdout + done.stderr).strip()
        assert done.returncode == 2, (name, text)
        assert len(text.splitlines()) == 1 and "Traceback" not in text, (name, text)
        for variable in ("TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SESSIONTOKEN"):
            assert variable in text, (name, text)


def test_the_scf_names_are_read_by_every_tool_when_the_chain_has_nothing(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> None:
    secret_id, secret_key, _ = ops.emu.credentials
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID")
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY")
    monkeypatch.setenv("TENCENTCLOUD_SECRETID", secret_id)
    monkeypatch.setenv("TENCENTCLOUD_SECRETKEY", secret_key)
    assert ops.setup()[0] == 0
    assert ops.check()[0] in (0, 1)


def test_an_unreachable_api_is_exit_2_for_check_and_setup(ops: Ops, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLB_UNBIND_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    code, out = ops.check()
    assert code == 2 and "reading the deployment failed" in out and len(out.splitlines()) == 1, out
    code, out = ops.setup()
    assert code == 2 and "reading the deployment failed" in out, out


def test_the_emulator_refuses_to_start_without_the_sdk_and_says_what_to_run() -> None:
    """-S: no site-packages, as a Python outside the venv; it used to print 'listening' and then drop
    every request."""
    done = subprocess.run([sys.executable, "-S", "-m", "emulator", "--port", "0"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "listening" not in done.stdout, done.stdout + done.stderr
    assert "make emulator" in done.stderr and "cannot start" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
