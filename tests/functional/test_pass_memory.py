"""The bodies one queue pass holds stay under a byte cap derived from the function's memory size.

150 junk bodies of 900 KiB (shaped like a retry envelope, so each gets the 1 MiB cap) used to be taken
in one pass: 155 MiB of Python heap in a function deployed with 128 MB (`python -m bench.pass_memory`).
Here 20 of them for a function of 96 MB (a byte cap of 10.7 MiB: two passes), against an emulator in its
own process so that its copy of the messages is not counted; the heap is measured with tracemalloc, not
timed. Measured: 26.6 MiB with the cap; without it the run holds all 20 at once, over the 32 MiB the
memory size leaves beside the runtime.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from bench.emulator_process import EmulatorKnobs, EmulatorProcess
from bench.estates import Shape, fleet_estate
from bench.pass_memory import MIB, fill, timer_run_heap

RUNTIME_MB = 64.0
"""consumer.RUNTIME_MB (a copy, so that this test also runs, and fails, without the cap)."""


@pytest.fixture
def emulator_process() -> Iterator[EmulatorProcess]:
    estate = fleet_estate(Shape(leaving=1, load_balancers=1, bound_on=1), visibility_timeout=600)
    with EmulatorProcess(estate, EmulatorKnobs(task_seconds=0.01, latency_seconds=0.0, rate_limit_per_second=0)) as emu:
        yield emu


def test_a_pass_holds_no_more_than_the_memory_size_allows(emulator_process: Any) -> None:
    memory_mb = 96
    fill(emulator_process, 1, 900)
    timer_run_heap(emulator_process, memory_mb, {})  # what a run imports is the runtime's (RUNTIME_MB)
    fill(emulator_process, 20, 900)
    got = timer_run_heap(emulator_process, memory_mb, {})
    assert got["queue"]["received"] == 20 and got["queue"]["passes"] >= 2
    assert got["peak_bytes"] < (memory_mb - RUNTIME_MB) * MIB, f"{got['peak_bytes'] / MIB:.1f} MiB of heap"
