"""Pictures of what the function did: a timer run's timeline from its own JSON log lines (`make demo`),
and the benchmark's calls and wall times beside their bounds (`make bench`).

Drawn as SVG with drawsvg (dev-only, requirements-dev.txt; never in the function's zip): one small
pure-Python package with no dependencies, enough for bars, text and axes. A charting library
(matplotlib: tens of MB with numpy; pygal: a chart per type, and a Gantt is not one of them) would
bring more than these two drawings need.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, List, Optional, Sequence, Tuple

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
PHASES: Dict[str, Tuple[str, str]] = {
    # decision -> (lane, colour)
    "claim_confirmed": ("confirm with Auto Scaling", "#8e6bbf"),
    "claims_unchecked": ("confirm with Auto Scaling", "#8e6bbf"),
    "not_leaving": ("confirm with Auto Scaling", "#8e6bbf"),
    "resolved": ("resolve bindings", "#3a7dc9"),
    "verified": ("verify", "#2aa198"),
    "completed": ("complete lifecycle action", "#4c9a2a"),
    "completed_already": ("complete lifecycle action", "#4c9a2a"),
    "consumed": ("delete, poll until empty", "#7f7f7f"),
    "swept": ("sweep Auto Scaling", "#b58900"),
    "audited": ("hook audit", "#cb4b16"),
    "dead_lettered": ("queue sends", "#dc322f"),
    "retry_queued": ("queue sends", "#dc322f"),
}
RECEIVE = ("receive", "#6c71c4")
"""No decision marks the end of a receive: the first span runs to the pass's first decision, and is
named for both when that decision is the trust check's."""
WRITE = "#d33682"


@dataclass
class Span:
    lane: str
    start: float
    end: float
    colour: str
    label: str = ""


def _t(line: Dict[str, Any]) -> float:
    return datetime.fromisoformat(str(line["timestamp"]).replace("Z", "+00:00")).timestamp()


def timeline_spans(lines: Sequence[Dict[str, Any]]) -> Tuple[List[Span], float, float]:
    """Spans of one run, from its decisions: each phase's work runs from the decision before it to its
    own; a load balancer's write from the plan to its `batch_done`."""
    events = sorted((line for line in lines if line.get("decision") and line.get("timestamp")), key=_t)
    start = next(_t(e) for e in events if e["decision"] == "received")
    end = max(_t(e) for e in events)
    spans: List[Span] = []
    previous = start
    planned = start
    first_work = True
    for e in events:
        name, at = e["decision"], _t(e)
        if name == "received":
            continue
        if first_work and name not in ("metrics", "summary"):
            first_work = False
            if PHASES.get(name, ("",))[0] == "confirm with Auto Scaling":
                spans.append(Span("receive, confirm with Auto Scaling", start, at, RECEIVE[1]))
                previous = at
                continue
            spans.append(Span(RECEIVE[0], start, at, RECEIVE[1]))
        if name == "planned":
            planned = at
        elif name in ("batch_done", "batch_failed") and e.get("step") != "zero_weights":
            lb = str(e.get("load_balancer_id"))
            n = e.get("targets")
            spans.append(Span(f"write {lb}", planned, at, WRITE if name == "batch_done" else "#dc322f",
                              f"{n} target{'' if n == 1 else 's'}" + ("" if name == "batch_done" else ", failed")))
        elif name in PHASES:
            lane, colour = PHASES[name]
            if spans and spans[-1].lane == f"receive, {lane}":
                lane = spans[-1].lane
            if spans and spans[-1].lane == lane and name not in ("consumed",):
                spans[-1].end = at
            else:
                spans.append(Span(lane, previous, at, colour))
        previous = at
    return spans, start, end


def _ticks(limit: float) -> List[float]:
    raw = limit / 6
    step = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for m in (1, 2, 5, 10):
        if raw <= m * step:
            step *= m
            break
    return [i * step for i in range(int(limit / step) + 1)]


def timeline_svg(lines: Sequence[Dict[str, Any]], title: str) -> str:
    import drawsvg as draw

    spans, start, end = timeline_spans(lines)
    lanes: List[str] = []
    for s in spans:
        if s.lane not in lanes:
            lanes.append(s.lane)
    total_ms = max((end - start) * 1000, 1.0)
    left, right, top, row = 230, 40, 70, 28
    width = 1100
    plot = width - left - right
    height = top + row * len(lanes) + 70
    d = draw.Drawing(width, height, font_family=FONT)
    d.append(draw.Rectangle(0, 0, width, height, fill="white"))
    d.append(draw.Text(title, 17, left, 28, font_weight="bold"))
    calls = next((line.get("api_calls") for line in lines if line.get("decision") == "metrics"), None)
    d.append(draw.Text(f"{total_ms:.0f} ms from the timer event to the metrics line" + (f", {calls} API calls" if calls else "")
                       + "; each bar runs from the decision before it to its own", 12, left, 48, fill="#555"))

    def x(seconds: float) -> float:
        return left + (seconds - start) * 1000 / total_ms * plot

    for tick in _ticks(total_ms):
        px = left + tick / total_ms * plot
        d.append(draw.Line(px, top - 6, px, top + row * len(lanes), stroke="#e5e5e5"))
        d.append(draw.Text(f"{tick:g}", 11, px, top + row * len(lanes) + 16, text_anchor="middle", fill="#555"))
    d.append(draw.Text("milliseconds since the timer event", 12, left + plot / 2, top + row * len(lanes) + 36,
                       text_anchor="middle", fill="#333"))
    for i, lane in enumerate(lanes):
        y = top + i * row
        d.append(draw.Text(lane, 12, left - 10, y + row / 2 + 4, text_anchor="end"))
        for s in (s for s in spans if s.lane == lane):
            x0, x1 = x(s.start), max(x(s.end), x(s.start) + 2)
            d.append(draw.Rectangle(x0, y + 5, x1 - x0, row - 10, fill=s.colour, rx=2))
            ms = (s.end - s.start) * 1000
            text = f"{ms:.0f} ms" + (f", {s.label}" if s.label else "")
            if x1 - x0 > 7 * len(text):
                d.append(draw.Text(text, 10, (x0 + x1) / 2, y + row / 2 + 4, text_anchor="middle", fill="white"))
            elif x1 + 4 + 6 * len(text) < width:
                d.append(draw.Text(text, 10, x1 + 4, y + row / 2 + 4, fill="#333"))
            else:
                d.append(draw.Text(text, 10, x0 - 4, y + row / 2 + 4, text_anchor="end", fill="#333"))
    return d.as_svg()


@dataclass
class BenchBar:
    workload: str
    series: str  # "bound" | "handler" | "naive"
    calls: Optional[float]
    seconds: Optional[float]


SERIES = {"bound": "#9e9e9e", "handler": "#2c7fb8", "naive": "#e6550d"}


def bench_svg(bars: Sequence[BenchBar], title: str, subtitle: str) -> str:
    """Two panels, API calls and wall seconds, log scale: each workload's bound, handler and naive run."""
    import drawsvg as draw

    workloads: List[str] = []
    for b in bars:
        if b.workload not in workloads:
            workloads.append(b.workload)
    series = [s for s in SERIES if any(b.series == s for b in bars)]
    left, gap = 170, 70
    panel = 380
    group = 14 * len(series) + 14
    width = left + 2 * panel + gap + 40
    wrapped = textwrap.wrap(subtitle, width=int((width - 40) / 6.6))
    legend_y = 52 + 16 * len(wrapped)
    top = legend_y + 36
    height = top + group * len(workloads) + 70
    d = draw.Drawing(width, height, font_family=FONT)
    d.append(draw.Rectangle(0, 0, width, height, fill="white"))
    d.append(draw.Text(title, 17, 20, 28, font_weight="bold"))
    for i, text in enumerate(wrapped):
        d.append(draw.Text(text, 12, 20, 50 + 16 * i, fill="#555"))
    for i, s in enumerate(series):
        lx = left + i * 130
        d.append(draw.Rectangle(lx, legend_y, 14, 12, fill=SERIES[s]))
        d.append(draw.Text({"bound": "lower bound", "handler": "clb-unbind", "naive": "naive strategy"}[s], 12, lx + 20, legend_y + 11))
    for p, (metric, unit) in enumerate((("calls", "API calls"), ("seconds", "wall time, seconds"))):
        x0 = left + p * (panel + gap)
        values = [getattr(b, metric) for b in bars if getattr(b, metric)]
        if not values:
            continue
        lo = 10 ** math.floor(math.log10(min(values)))
        if math.isclose(lo, min(values)):
            lo /= 10  # a value on the axis's first decade would draw no bar
        hi = 10 ** math.ceil(math.log10(max(values)))
        if hi <= lo:
            hi = lo * 10

        def px(v: float) -> float:
            return x0 + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * panel

        decade = lo
        while decade <= hi * 1.0001:
            gx = px(decade)
            d.append(draw.Line(gx, top - 4, gx, top + group * len(workloads), stroke="#e5e5e5"))
            d.append(draw.Text(f"{decade:g}", 11, gx, top + group * len(workloads) + 16, text_anchor="middle", fill="#555"))
            decade *= 10
        d.append(draw.Text(f"{unit} (log scale)", 12, x0 + panel / 2, top + group * len(workloads) + 36,
                           text_anchor="middle", fill="#333"))
        for w_i, w in enumerate(workloads):
            gy = top + w_i * group
            if p == 0:
                d.append(draw.Text(w, 12, left - 10, gy + group / 2 + 2, text_anchor="end"))
            for s_i, s in enumerate(series):
                b = next((b for b in bars if b.workload == w and b.series == s), None)
                value = getattr(b, metric) if b else None
                y = gy + 4 + s_i * 14
                if not value:
                    continue
                d.append(draw.Rectangle(x0, y, max(px(value) - x0, 1), 11, fill=SERIES[s]))
                d.append(draw.Text(f"{value:.3g}" if metric == "seconds" else f"{value:.0f}", 10, px(value) + 4, y + 9, fill="#333"))
    return d.as_svg()
