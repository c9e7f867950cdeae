"""What ships where: the operator SDK packages never enter the function's zip, and serverless.yml
carries no key the component ignores and no trigger that no longer exists."""
from __future__ import annotations

import re
from pathlib import Path

import tools.package as package
from deploy.desired import HANDLER, RUNTIME

ROOT = Path(__file__).resolve().parents[2]
OPS_ONLY = ("tencentcloud-sdk-python-scf", "tencentcloud-sdk-python-cam")


def _names(path: Path) -> set:
    return {re.split(r"[=<>;\s]", line.strip(), 1)[0].lower() for line in path.read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-r"))}


def test_the_zip_installs_requirements_txt_only_and_it_names_no_operator_package() -> None:
    assert package.REQUIREMENTS == ROOT / "requirements.txt"
    assert not _names(package.REQUIREMENTS) & set(OPS_ONLY)
    ops = _names(ROOT / "requirements-ops.txt")
    assert set(OPS_ONLY) <= ops
    assert "-r requirements-ops.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_operator_pins_agree_with_the_function_pins() -> None:
    def pins(path: Path) -> dict:
        return dict(re.findall(r"^([\w-]+)==([\w.]+)", path.read_text(), re.M))

    runtime, ops = pins(ROOT / "requirements.txt"), pins(ROOT / "requirements-ops.txt")
    shared = set(runtime) & set(ops)
    assert "tencentcloud-sdk-python-common" in shared
    assert {k: ops[k] for k in shared} == {k: runtime[k] for k in shared}


SERVERLESS = (ROOT / "serverless.yml").read_text()


def test_serverless_yml_has_a_timer_trigger_and_no_cmq_trigger() -> None:
    events = SERVERLESS.split("events:", 1)[1]
    assert re.search(r"^\s*- timer:", events, re.M)
    assert not re.search(r"^\s*- cmq:", events, re.M)
    cron = re.search(r"cronExpression: '([^']+)'", events).group(1)
    from deploy.invariants import cron_interval

    assert cron_interval(cron) == 60


def test_serverless_yml_gateway_waits_as_long_as_the_function_runs() -> None:
    timeout = int(re.search(r"^\s+timeout: (\d+)", SERVERLESS, re.M).group(1))
    service_timeouts = [int(v) for v in re.findall(r"serviceTimeout: (\d+)", SERVERLESS)]
    assert service_timeouts and all(v >= timeout for v in service_timeouts)


def test_serverless_yml_names_no_key_the_component_ignores() -> None:
    keys = set(re.findall(r"^\s+(\w+):", SERVERLESS, re.M))
    if "asyncRunEnable" not in keys:
        assert not keys & {"retryNum", "msgTTL"}
    assert re.search(rf"^\s+runtime: {re.escape(RUNTIME)}\s*$", SERVERLESS, re.M)
    assert re.search(rf"^\s+handler: {re.escape(HANDLER)}\s*$", SERVERLESS, re.M)
    assert "CLB_UNBIND_QUEUE:" in SERVERLESS


def test_a_package_holding_the_operator_tool_or_its_sdks_is_refused(tmp_path: Path) -> None:
    for must in ("index.py", "clb_unbind/__init__.py", "clb_unbind/app.py"):
        (tmp_path / must).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / must).write_text("")
    for must in ("tencentcloud/common", "pydantic", "pydantic_core", "pythonjsonlogger"):
        (tmp_path / must).mkdir(parents=True)
    assert package.check_contents(tmp_path) == []
    for never in ("deploy", "tencentcloud/scf", "tencentcloud/cam"):
        (tmp_path / never).mkdir(parents=True)
    problems = package.check_contents(tmp_path)
    assert any("deploy/" in p for p in problems) and any("tencentcloud/scf/" in p for p in problems)
    assert any("tencentcloud/cam/" in p for p in problems)


def _build(tree: Path, zip_path: Path, mtime: int, mode: int, seed: str) -> bytes:
    """The package's own steps on the function's sources: copy, compile, zip; each build with other
    file times, other modes and another hash seed in the builder's environment."""
    import os
    import sys

    package.copy_handler(tree)
    for path in tree.rglob("*"):
        if path.is_file():
            path.chmod(mode)
            os.utime(path, (mtime, mtime))
    old = os.environ.get("PYTHONHASHSEED")
    os.environ["PYTHONHASHSEED"] = seed
    try:
        assert package.compile_bytecode(tree, sys.executable)
    finally:
        if old is None:
            os.environ.pop("PYTHONHASHSEED")
        else:
            os.environ["PYTHONHASHSEED"] = old
    assert any(tree.rglob("*.pyc"))
    package.write_zip(tree, zip_path)
    return zip_path.read_bytes()


def test_two_builds_of_the_same_sources_give_the_same_bytes(tmp_path: Path) -> None:
    import zipfile

    first = _build(tmp_path / "a", tmp_path / "a.zip", 1_600_000_000, 0o664, "1")
    second = _build(tmp_path / "b", tmp_path / "b.zip", 1_700_000_000, 0o600, "2")
    assert first == second
    with zipfile.ZipFile(tmp_path / "a.zip") as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {package.ZIP_TIME}
    assert {(i.external_attr >> 16) & 0o777 for i in infos} == {0o644}


def test_a_rebuilt_package_makes_a_second_setup_write_nothing(ops, tmp_path: Path) -> None:
    _build(tmp_path / "a", ops.package, 1_600_000_000, 0o644, "1")
    assert ops.setup()[0] == 0
    _build(tmp_path / "b", ops.package, 1_700_000_000, 0o644, "2")
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0 and "nothing to change" in out and ops.writes() == []
