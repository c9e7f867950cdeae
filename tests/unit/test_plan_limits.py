"""`zero_weight_calls` keeps BatchModifyTargetWeight's ModifyList limits: 100 entries, 50 targets each, 500 in all."""
from __future__ import annotations

from clb_unbind.plan import zero_weight_calls

from tests.unit.test_plan import binding


def shape(calls: list) -> list:
    return [[len(entry["Targets"]) for entry in call] for call in calls]


def test_a_listener_with_120_targets_is_split_into_entries_of_50() -> None:
    assert shape(zero_weight_calls([binding(port=p) for p in range(120)])) == [[50, 50, 20]]


def test_more_than_500_targets_take_another_call() -> None:
    assert shape(zero_weight_calls([binding(port=p) for p in range(520)])) == [[50] * 10, [20]]


def test_more_than_100_entries_take_another_call() -> None:
    calls = zero_weight_calls([binding(listener=f"lbl-{n:08d}") for n in range(101)])
    assert shape(calls) == [[1] * 100, [1]]
