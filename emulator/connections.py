"""Per-backend connections, as Cloud Monitor reports them (docs/drain.md).

Each backend IP has a profile: how many connections it holds while it takes traffic, how many of them
close in each 60 s period once its weight on a listener goes to 0, and how many never close. The weight
change is recorded when the emulator applies it (``services/clb.py``'s weight task), per
(load balancer, listener, backend IP, backend port); its connections decay from that moment.

Time is the wall clock, with a scaled period: the knob ``monitor_period_seconds`` is how long what the
API calls a 60 s period lasts (1: a period a second, so a drain of minutes takes seconds in a test, and
the function's own clock needs no scaling). A period's data point is published ``monitor_delay_seconds``
(wall) after the period ends; a period with no published point has no data point at all
(``DataPoint.Timestamps``: "缺失的时间戳，没有数据点").

A backend may instead hold a list of connection lifetimes (``set_lifetimes``): each connection closes
that many API seconds after the weight change (``math.inf``: never), so the moment its connections
really reach 0 is known exactly (the drain bench, bench/drain.py). The unbind is recorded too
(``unbound``, when the emulator applies the deregister): what is still open then was cut.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field

PERIOD = 60


@dataclass
class Profile:
    connections: int = 0
    """Open connections while the backend takes traffic."""
    close_per_period: int = 0
    """Connections that close in each period after the weight goes to 0."""
    stuck: int = 0
    """Connections that never close (of ``connections``)."""


@dataclass
class ConnectionModel:
    profiles: dict[str, Profile] = field(default_factory=dict)
    zero_since: dict[tuple[str, str, str, int], float] = field(default_factory=dict)
    """(lb_id, listener_id, ip, port) → wall time the weight became 0."""
    lifetimes: dict[tuple[str, str, str, int], tuple[float, ...]] = field(default_factory=dict)
    """(lb_id, listener_id, ip, port) → each connection's lifetime in API seconds after the weight change
    (``math.inf``: it never closes); such a backend ignores its IP's profile."""
    unbound_at: dict[tuple[str, str, str, int], float] = field(default_factory=dict)
    """(lb_id, listener_id, ip, port) → wall time the emulator applied the backend's deregister."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def set_lifetimes(self, lb_id: str, listener_id: str, ip: str, port: int, lifetimes: list[float]) -> None:
        if any(not (life >= 0) for life in lifetimes):
            raise ValueError("connection lifetimes must be >= 0 (math.inf: never closes)")
        with self._lock:
            self.lifetimes[(lb_id, listener_id, ip, port)] = tuple(lifetimes)

    def unbound(self, lb_id: str, listener_id: str, ip: str, port: int, wall: float) -> None:
        with self._lock:
            self.unbound_at.setdefault((lb_id, listener_id, ip, port), wall)

    def weight_changed(self, lb_id: str, listener_id: str, ip: str, port: int, weight: int, wall: float) -> None:
        key = (lb_id, listener_id, ip, port)
        with self._lock:
            if weight == 0:
                self.zero_since.setdefault(key, wall)
            else:
                self.zero_since.pop(key, None)

    def connections_at(self, lb_id: str, listener_id: str, ip: str, port: int, t: float, period: float) -> int:
        """Open connections at time ``t``, ``period`` being the length of one 60 s period."""
        key = (lb_id, listener_id, ip, port)
        since = self.zero_since.get(key)
        lives = self.lifetimes.get(key)
        if lives is not None:
            if since is None or t < since:
                return len(lives)
            return open_after(lives, (t - since) * PERIOD / period)
        profile = self.profiles.get(ip, Profile())
        if since is None or t < since:
            return profile.connections
        periods = math.floor((t - since) / period)
        closing = max(profile.connections - profile.stuck, 0)
        return profile.stuck + max(closing - profile.close_per_period * periods, 0)


def open_after(lifetimes: tuple[float, ...] | list[float], seconds: float) -> int:
    """Connections of these lifetimes still open ``seconds`` (API time) after the weight change: one
    that closes at exactly that moment is closed."""
    return sum(1 for life in lifetimes if life > seconds)
