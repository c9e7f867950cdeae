from __future__ import annotations

from clb_unbind.cloud.ratelimit import SlidingWindow


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_never_more_than_the_limit_in_any_one_second_window() -> None:
    clock = FakeClock()
    window = SlidingWindow(20, clock)
    sends = []
    for i in range(100):
        clock.now = 100.0 + i * 0.01  # asks at 100 a second
        sends.append(clock.now + window.reserve())
    sends.sort()
    for i, start in enumerate(sends):
        in_window = [t for t in sends[i:] if t < start + 1.0]
        assert len(in_window) <= 20
    assert sends[-1] - sends[0] < 5.0  # and it does not wait longer than needed


def test_no_wait_under_the_limit() -> None:
    clock = FakeClock()
    window = SlidingWindow(20, clock)
    assert [window.reserve() for _ in range(20)] == [0.0] * 20
    assert window.reserve() > 0.99
