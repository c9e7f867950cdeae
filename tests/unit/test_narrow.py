"""`narrow.bisect`: a permanent error is narrowed to the ids that cause it; anything else is raised."""
from __future__ import annotations

from typing import List

import pytest

from clb_unbind.cloud.errors import CloudError
from clb_unbind.cloud.narrow import bisect
from clb_unbind.model import CloudFailure


def reader(bad: set, code: str = "UnauthorizedOperation"):
    calls: List[List[str]] = []

    def read(part: List[str]) -> List[str]:
        calls.append(part)
        if bad & set(part):
            raise CloudError(CloudFailure(code, "denied", "cvm:DescribeInstances"))
        return part

    return read, calls


def test_only_the_culprits_fail_and_everyone_else_is_answered() -> None:
    ids = [f"ins-{n:08d}" for n in range(16)]
    read, calls = reader({ids[3], ids[12]})
    answers, failed = bisect(ids, read)
    assert sorted(i for a in answers for i in a) == sorted(set(ids) - {ids[3], ids[12]})
    assert set(failed) == {ids[3], ids[12]} and failed[ids[3]].code == "UnauthorizedOperation"
    assert len(calls) <= 1 + 2 * 2 * 4  # about 2·f·log2(n) more reads


@pytest.mark.parametrize("code", ["InternalError", "AuthFailure.SignatureFailure"])
def test_retryable_and_credential_errors_are_not_narrowed(code: str) -> None:
    read, calls = reader({"ins-00000001"}, code)
    with pytest.raises(CloudError):
        bisect(["ins-00000000", "ins-00000001"], read)
    assert len(calls) == 1


def test_an_error_about_no_id_costs_at_most_the_budget() -> None:
    ids = [f"ins-{n:08d}" for n in range(100)]
    read, calls = reader(set(ids))  # every read fails: the action itself is denied
    answers, failed = bisect(ids, read)
    assert answers == [] and set(failed) == set(ids)
    assert len(calls) <= 1 + 32
