"""The pictures are drawn from what happened: a timer run's own log lines, the bench's own figures."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Callable, Dict

import pytest

from bench.estates import DEAD_LETTER_QUEUE, LIFECYCLE_QUEUE, Shape, fleet_estate, group_id, leaving_id
from tests.conftest import load_event, point_function_at
from tools.pictures import BenchBar, bench_svg, timeline_spans, timeline_svg

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def fleet(make_emulator: Callable[..., Any], function_env: Dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Any:
    return point_function_at(make_emulator(fleet_estate(Shape(leaving=8, load_balancers=3, bound_on=2), 30, 1)), monkeypatch)


def texts(svg: str) -> list:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_the_timeline_has_a_lane_per_phase_and_per_load_balancer_written(fleet: Any, invoke: Any, capsys: Any) -> None:
    fleet.scale_in(group_id(0), [leaving_id(i) for i in range(4)], publish=True)
    invoke(load_event("timer.json"), CLB_UNBIND_QUEUE=LIFECYCLE_QUEUE, CLB_UNBIND_DEAD_LETTER_QUEUE=DEAD_LETTER_QUEUE,
           CLB_UNBIND_POLL_SECONDS="0", CLB_UNBIND_GROUPS=group_id(0))
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    written = {x["load_balancer_id"] for x in lines if x.get("decision") == "batch_done"}
    spans, start, end = timeline_spans(lines)
    lanes = {s.lane for s in spans}
    assert {f"write {lb}" for lb in written} <= lanes and written
    assert {"receive, confirm with Auto Scaling", "resolve bindings", "verify", "complete lifecycle action",
            "sweep Auto Scaling", "hook audit"} <= lanes
    assert all(start <= s.start <= s.end <= end for s in spans)
    labels = texts(timeline_svg(lines, "t"))
    assert "milliseconds since the timer event" in labels and any(f"write {lb}" in labels for lb in written)


def test_the_bench_chart_names_its_series_units_and_workloads() -> None:
    bars = [BenchBar("(a)", "bound", 4, 0.5), BenchBar("(a)", "handler", 5, 0.7), BenchBar("(a)", "naive", 400, 30.0),
            BenchBar("(f) queue", "bound", 10, None), BenchBar("(f) queue", "handler", 12, 2.0)]
    labels = texts(bench_svg(bars, "title", "sub"))
    for want in ("lower bound", "clb-unbind", "naive strategy", "API calls (log scale)", "wall time, seconds (log scale)",
                 "(a)", "(f) queue", "400", "30"):
        assert want in labels, want
