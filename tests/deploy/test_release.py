"""Upgrade and roll back: setup publishes a version of each new package and points the timer's alias at
it; rollback moves the alias back with one UpdateAlias and no other write."""
from __future__ import annotations

import json

import pytest

from deploy.cloud import ApiFailure, Cloud
from emulator import deployment
from tests.deploy.conftest import Ops, package_zip

FUNCTION = "clb-unbind"


def fn(ops: Ops) -> deployment.Function:
    found = deployment.of_emulator(ops.emu).function("ap-guangzhou", "default", FUNCTION)
    assert found is not None
    return found


def test_setup_publishes_a_version_and_the_timer_fires_the_alias(ops: Ops) -> None:
    code, out = ops.setup()
    assert code == 0, out
    f = fn(ops)
    assert list(f.versions) == ["1"] and f.versions["1"].code == ops.package.read_bytes()
    assert f.aliases["live"].version == "1"
    assert [(t.name, t.qualifier) for t in f.triggers.values()] == [("clb-unbind-consumer", "live")]
    assert "the timer now runs version 1 (alias live)" in out
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0 and ops.writes() == [] and "nothing to change" in out


def test_a_new_package_is_a_new_version_and_rollback_moves_only_the_alias(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    package_zip(ops.package, "v2")
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0, out
    assert [c.action for c in ops.writes()] == ["UpdateFunctionCode", "UpdateFunctionConfiguration", "PublishVersion",
                                               "UpdateAlias"]
    f = fn(ops)
    assert sorted(f.versions) == ["1", "2"] and f.aliases["live"].version == "2"
    assert b"v2" in f.versions["2"].code and b"v1" in f.versions["1"].code
    assert "the timer now runs version 2 (alias live); undo: `make rollback VERSION=1`" in out

    ops.emu.clear_calls()
    code, out = ops.run("rollback", "--dry-run")
    assert code == 0 and ops.writes() == [] and "points at version 2; moving it to 1" in out and "none made (dry run)" in out
    code, out = ops.run("rollback")
    assert code == 0, out
    assert [(c.action, c.params["FunctionVersion"]) for c in ops.writes()] == [("UpdateAlias", "1")]
    assert fn(ops).aliases["live"].version == "1" and "Undo: `make rollback VERSION=2`" in out
    code, out = ops.check("--json")
    timer_code = {r["invariant"]: r for r in json.loads(out)}["timer_code"]
    assert code == 1 and not timer_code["ok"] and "runs version 1 (via live)" in timer_code["detail"]
    code, out = ops.run("rollback", "--list")
    assert code == 0 and "* version 1:" in out and "  version 2:" in out

    code, out = ops.run("rollback")
    assert code == 2 and "no version older than 1" in out
    assert ops.run("rollback", "--version", "9")[0] == 2
    assert ops.run("rollback", "--version", "2")[0] == 0 and fn(ops).aliases["live"].version == "2"


def test_setup_with_a_version_moves_the_alias_and_nothing_else(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    package_zip(ops.package, "v2")
    assert ops.setup()[0] == 0
    ops.emu.clear_calls()
    code, out = ops.setup("--version", "1")
    assert code == 0, out
    assert [c.action for c in ops.writes()] == ["UpdateAlias"] and fn(ops).aliases["live"].version == "1"
    code, out = ops.setup("--version", "7")
    assert code == 1 and "has no version 7" in out


def test_setup_with_the_old_package_again_reuses_its_version(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    first = ops.package.read_bytes()
    package_zip(ops.package, "v2")
    assert ops.setup()[0] == 0
    ops.package.write_bytes(first)
    ops.emu.clear_calls()
    assert ops.setup()[0] == 0
    assert "PublishVersion" not in [c.action for c in ops.writes()]
    assert fn(ops).aliases["live"].version == "1" and sorted(fn(ops).versions) == ["1", "2"]


def test_a_timer_of_an_earlier_setup_is_moved_to_the_alias(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    f = fn(ops)
    trigger = f.triggers["clb-unbind-consumer"]
    trigger.qualifier = "$DEFAULT"  # as setups before versions made it
    ops.emu.clear_calls()
    code, out = ops.setup()
    assert code == 0, out
    assert [c.action for c in ops.writes()] == ["DeleteTrigger", "CreateTrigger"]
    assert fn(ops).triggers["clb-unbind-consumer"].qualifier == "live"
    assert json.loads(fn(ops).triggers["clb-unbind-consumer"].desc)["cron"] == "0 */1 * * * * *"


def test_the_emulator_keeps_scf_version_and_alias_rules(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    cloud = Cloud.from_env("ap-guangzhou")
    base = {"FunctionName": FUNCTION, "Namespace": "default"}

    def code_of(action: str, params: dict) -> str:
        with pytest.raises(ApiFailure) as caught:
            cloud.write("scf", action, {**base, **params})
        return caught.value.code

    assert code_of("CreateAlias", {"Name": "canary", "FunctionVersion": "5"}) == "ResourceNotFound.Version"
    assert code_of("CreateAlias", {"Name": "live", "FunctionVersion": "1"}) == "ResourceInUse.Alias"
    assert code_of("CreateAlias", {"Name": "9lives", "FunctionVersion": "1"}) == "InvalidParameterValue.Name"
    assert code_of("UpdateAlias", {"Name": "live", "FunctionVersion": "1",
                                   "RoutingConfig": {"AdditionalVersionWeights": [{"Version": "1", "Weight": 0.5}]}}) \
        == "InvalidParameterValue.AdditionalVersionWeights"
    assert code_of("DeleteAlias", {"Name": "$DEFAULT"}) == "InvalidParameterValue.Alias"
    assert code_of("CreateTrigger", {"TriggerName": "t2", "Type": "timer", "TriggerDesc": "0 */5 * * * * *",
                                     "Qualifier": "nope"}) == "ResourceNotFound.Qualifier"
    assert code_of("DeleteTrigger", {"TriggerName": "clb-unbind-consumer", "Type": "timer"}) == "ResourceNotFound.Trigger"
    assert code_of("DeleteFunction", {"Qualifier": "1"}) == "UnsupportedOperation.AliasBind"
    assert cloud.read("scf", "GetAlias", {**base, "Name": "$DEFAULT"})["FunctionVersion"] == "$LATEST"
    listed = cloud.read("scf", "ListVersionByFunction", {**base})
    assert listed["FunctionVersion"] == ["$LATEST", "1"] and listed["TotalCount"] == 2
