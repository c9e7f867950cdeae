"""`make setup` / `make check` take CMQ_ENDPOINT: setup stores it, check holds the function to it."""
from __future__ import annotations

import json

from tests.deploy.conftest import Ops

PUBLIC = "https://cmq-gz.public.tencenttdmq.com"
PRIVATE = "http://gz.mqadapter.cmq.tencentyun.com"


def function_row(ops: Ops, endpoint: str) -> dict:
    code, out = ops.check("--json", "--cmq-endpoint", endpoint)
    rows = {r["invariant"]: r for r in json.loads(out)}
    assert code == (0 if all(r["ok"] for r in rows.values()) else 1)
    return rows["function"]


def test_check_holds_the_function_to_the_endpoint_given(ops: Ops) -> None:
    assert ops.setup()[0] == 0
    row = function_row(ops, PUBLIC)  # the region's row of the table
    assert row["ok"] and PUBLIC in row["detail"]
    row = function_row(ops, PRIVATE)
    assert not row["ok"] and f"reads its queue at {PUBLIC}, not {PRIVATE}" in row["detail"]
    assert f"CMQ_ENDPOINT={PRIVATE}" in row["fix"]

    code, out = ops.setup("--cmq-endpoint", PRIVATE)
    assert code == 0 and f"CLB_UNBIND_CMQ_ENDPOINT: unset -> '{PRIVATE}'" in out
    assert function_row(ops, PRIVATE)["ok"]
    assert not function_row(ops, PUBLIC)["ok"]
