"""Drains under way go back in as few envelopes as the caps allow (finish.py, docs/drain.md#one-envelope-per-pass),
and each notice of a combined envelope comes back as it went: its drain state, its first-seen time and
its original payload, not the first instance's."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "handler") not in sys.path:
    sys.path.insert(0, str(ROOT / "handler"))

from clb_unbind.finish import _drain_envelope, _drain_envelopes, drain_delay  # noqa: E402
from clb_unbind.model import CloudFailure, InstanceOutcome, LifecycleAction, Notice, Status  # noqa: E402
from clb_unbind.wire.drain_state import BindingDrain, DrainState  # noqa: E402
from clb_unbind.wire.envelopes import SIGNATURE_BYTES  # noqa: E402

from .test_triggers_envelopes import SETTINGS, through_queue  # noqa: E402

B = ("10.0.1.1", "100001", 80, "TCP", "10.0.0.11", 8080)
WAITING = CloudFailure("Draining", "1 binding(s) still draining", "drain")


def draining(n: int, attempt: int = 1, original: str = "") -> InstanceOutcome:
    iid = f"ins-web{n:05d}"
    notice = Notice(iid, "cmq", "INSTANCE_TERMINATING", f"msg-{n}", attempt=attempt,
                    lifecycle=LifecycleAction("ash-hook0001", f"token-{n}", "asg-group001"),
                    first_seen=f"2026-11-22T10:{n % 60:02d}:00Z", original=original or f'{{"InstanceId": "{iid}"}}')
    state = DrainState(since=1_700_000_000.0 + n, cap_at=1_700_003_600.0, look=f"look{n}",
                       bindings=(BindingDrain(key=f"lb-web00001/lbl-tcp00080/{iid}:8080", backend=B, zeros=1),))
    return InstanceOutcome(notice, Status.INCOMPLETE, failures=(WAITING,), drain=state)


def test_forty_drains_fit_one_envelope_and_the_caps_split_them() -> None:
    forty = [draining(n) for n in range(40)]
    assert [len(g) for g in _drain_envelopes(forty, per_message=100)] == [40]
    assert [len(g) for g in _drain_envelopes(forty, per_message=16)] == [16, 16, 8]
    one = _drain_envelope(forty[:1], False).json_bytes()
    groups = _drain_envelopes(forty, per_message=100, limit=one * 10)
    assert sum(len(g) for g in groups) == 40 and len(groups) > 1
    assert all(_drain_envelope(g, False).json_bytes() + SIGNATURE_BYTES <= one * 10 for g in groups)


def test_drains_of_different_attempts_travel_apart() -> None:
    groups = _drain_envelopes([draining(1), draining(2, attempt=3), draining(3)], per_message=100)
    assert sorted(sorted(o.notice.attempt for o in g) for g in groups) == [[1, 1], [3]]


def test_each_notice_of_a_combined_envelope_comes_back_with_its_own_state_time_and_original() -> None:
    outcomes = [draining(n) for n in (1, 2, 3)]
    record = through_queue(_drain_envelope(outcomes, False).to_json(SETTINGS.envelope_secret))
    back = {n.instance_id: n for n in record.notices}
    for o in outcomes:
        n = back[o.notice.instance_id]
        assert n.drain == o.drain and n.first_seen == o.notice.first_seen and n.original == o.notice.original
        assert n.lifecycle is not None and n.lifecycle.token == o.notice.lifecycle.token


def test_one_instance_or_a_shared_original_keeps_the_envelope_as_it_was() -> None:
    env = _drain_envelope([draining(1)], False)
    assert env.original == '{"InstanceId": "ins-web00001"}' and env.notices[0].original is None
    assert env.notices[0].first_seen is None and env.first_seen == "2026-11-22T10:01:00Z"
    shared = _drain_envelope([draining(1, original="same"), draining(2, original="same")], False)
    assert shared.original == "same" and {n.original for n in shared.notices} == {None}


def test_a_drain_envelope_is_visible_by_the_next_timer_firing_and_at_least_a_second_later() -> None:
    assert drain_delay(60, 1_700_000_000.0) == 40  # 1_700_000_040 is the next multiple of 60
    assert drain_delay(60, 1_700_000_039.5) == 1
    assert drain_delay(60, 1_700_000_040.0) == 60
    assert drain_delay(1, 1_700_000_000.3) == 1
    assert drain_delay(30, 1_700_000_001.0) == 9  # 1_700_000_010 is a multiple of 30


def test_a_look_prefers_the_runs_own_chain_then_the_older_drain_then_a_drain_over_a_bare_notice() -> None:
    from dataclasses import replace

    from clb_unbind.drain_run import _preferred

    own, older, bare = draining(5).notice, draining(1).notice, draining(9).notice
    own = replace(own, drain=draining(5).drain)
    older = replace(older, drain=draining(1).drain)
    sent = own.drain
    assert _preferred(own, older, sent) and not _preferred(older, own, sent)  # the run's own envelope, back early
    assert _preferred(older, own, None) and not _preferred(own, older, None)  # no own chain: the older drain
    assert _preferred(older, bare, None) and not _preferred(bare, older, None)
