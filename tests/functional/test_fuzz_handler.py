"""Arbitrary and mutated events through main_handler with the emulator up: never an uncaught exception,
every input handled or refused with a reason, and no unbind of an instance the input did not name."""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Set

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import EVENTS
from tests.signing import signed

SAMPLES = [json.loads(p.read_text()) for p in sorted(EVENTS.glob("*.json"))]
IDS = re.compile(r"(?:ins|ein)-[a-z0-9]{8}")
ALL_INSTANCES = ["ins-web00001", "ins-web00002", "ins-web00003", "ins-web00004", "ins-lonely01", "ins-other001", "ein-edge0001", "ein-edge0002"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20) | st.sampled_from(ALL_INSTANCES + ["ins-", "INS-WEB00001", "ein-x"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_samples(draw: Any) -> Any:
    event = json.loads(json.dumps(draw(st.sampled_from(SAMPLES))))
    for _ in range(draw(st.integers(1, 3))):
        node = event
        path = []
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else list(range(len(node)))))
            path.append((node, key))
            node = node[key]
        if not path:
            continue
        parent, key = path[-1]
        action = draw(st.sampled_from(["replace", "delete", "stringify"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "stringify":
            parent[key] = json.dumps(parent[key])
        else:
            parent[key] = draw(json_values)
    if isinstance(event, dict) and "requestContext" in event and draw(st.booleans()):
        event = signed(event, body=event.get("body") if isinstance(event.get("body"), str) else "")
    return event


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(event=st.one_of(json_values, mutated_samples()))
def test_any_event_is_handled_or_refused_never_crashes(event: Any, function_env: Dict[str, str], monkeypatch: Any) -> None:
    from emulator import Emulator, Knobs
    from index import main_handler

    from tests.estates import base_estate

    monkeypatch.setenv("CLB_UNBIND_RETRY_QUEUE", "clb-unbind-retry")
    monkeypatch.setenv("CLB_UNBIND_DEAD_LETTER_QUEUE", "clb-unbind-dead-letter")
    with Emulator(base_estate(), knobs=Knobs(task_seconds=0.01)) as emulator:
        monkeypatch.setenv("CLB_UNBIND_ENDPOINT", emulator.endpoint)
        _check(event, emulator, main_handler)


def _check(event: Any, emulator: Any, main_handler: Any) -> None:
    from tests.estates import base_estate

    text = json.dumps(event)
    named: Set[str] = set(IDS.findall(text))
    for activity in base_estate()["activities"]:  # a SCALE_IN notification names its instances through the activity
        if activity["activityId"] in text:
            named |= {i["instanceId"] for i in activity["relatedInstances"]}
    before = {i: emulator.bindings(i) for i in ALL_INSTANCES if i not in named}
    answer = main_handler(event, {"request_id": "fuzz", "time_limit_in_ms": 10000})
    assert isinstance(answer, dict)
    if "statusCode" in answer:
        assert answer["statusCode"] in (200, 202, 400, 401, 404, 405, 413, 422)
        body = json.loads(answer["body"])
        assert "records" in body or body.get("error")
    else:
        for record in answer["records"]:
            assert record["status"] in ("done", "ignored", "refused", "retry_queued", "dead_lettered")
            if record["status"] in ("refused", "ignored"):
                assert record["reason"]
    assert {i: emulator.bindings(i) for i in before} == before

