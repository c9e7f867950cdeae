"""cloud/monitor.py against the emulator through the common package's CommonClient: reads coalesced
within GetMonitorData's documented limits (10 dimension sets a request, docs/drain.md)."""
from __future__ import annotations

import time
from typing import Any

import pytest

from clb_unbind.cloud import monitor
from clb_unbind.cloud.errors import CloudError

from .test_apply import session_for

TCP = ("10.0.1.1", "vpc-main0001", 80, "TCP", "10.0.0.11", 8080)


def test_twelve_backends_cost_two_reads_and_unbound_ones_have_no_points(emulator: Any) -> None:
    emulator.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=0.0)
    emulator.set_connections("10.0.0.11", 7)
    others = [("10.0.1.1", "vpc-main0001", 80, "TCP", f"10.0.9.{n}", 8080) for n in range(11)]
    time.sleep(0.3)
    now = time.time()
    emulator.clear_calls()
    series = monitor.connections(session_for(emulator), "ap-guangzhou", [TCP, *others], now - 3, now)
    assert emulator.count("GetMonitorData") == 2
    assert series[TCP] and set(series[TCP].values()) == {7.0}
    assert all(series[b] == {} for b in others)


def test_a_failed_read_raises_rather_than_reading_zero(emulator: Any) -> None:
    emulator.set_knobs(monitor_error_rate=1.0)
    with pytest.raises(CloudError):
        monitor.connections(session_for(emulator), "ap-guangzhou", [TCP], time.time() - 600, time.time())


def test_a_private_clb_has_no_points_in_the_public_namespace(emulator: Any) -> None:
    emulator.set_knobs(monitor_period_seconds=1.0, monitor_delay_seconds=0.0)
    emulator.set_connections("10.0.0.11", 7)
    time.sleep(0.3)
    now = time.time()
    session = session_for(emulator)
    assert monitor.connections(session, "ap-guangzhou", [TCP], now - 3, now, monitor.PUBLIC) == {TCP: {}}
    assert set(monitor.connections(session, "ap-guangzhou", [TCP], now - 3, now, monitor.PRIVATE)[TCP].values()) == {7.0}
    (public, private) = [c.params for c in emulator.calls if c.action == "GetMonitorData"]
    assert (public["Namespace"], public["MetricName"]) == ("QCE/LB_PUBLIC", "ConNum")
    assert (private["Namespace"], private["MetricName"]) == ("QCE/LB_RS_PRIVATE", "Connum")
