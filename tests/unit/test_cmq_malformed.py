"""The CMQ client's parsing is total: any answer, however malformed, is a `CloudError` with a clear message.

Three answers used to escape as other exceptions and end a whole timer run before its sweep: a `code` of
"²" (`str.isdigit` accepts it, `int` refuses it), `"errorList": 5` (iterated), and JSON nested deeper than
the parser's recursion limit (`RecursionError`). The property test sends arbitrary answers, and answers of
the right shape with fields of the wrong types, through the real client over HTTP (the canned server of
test_cmq_client.py).
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from clb_unbind.cloud import cmq
from clb_unbind.cloud.errors import CloudError
from clb_unbind.model import CloudFailure
from tests.unit.test_cmq_client import Canned, make_session

ACTIONS: List[Callable[[Any], Any]] = [
    lambda session: cmq.receive(session, "q1", poll_seconds=0),
    lambda session: cmq.delete(session, "q1", ["h1", "h2"]),
    lambda session: cmq.send(session, "q1", "body"),
]
REPEATS = 40
"""Every retry of one call gets the same answer (then the server answers `{"code": 0}`)."""


@pytest.fixture(scope="module")
def canned() -> Iterator[Canned]:
    server = Canned()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


def outcome(canned: Canned, body: str, action: Callable[[Any], Any], status: int = 200) -> Any:
    """What the client makes of `body`: its result, or the CloudError it raised. Anything else escapes."""
    canned.answers[:] = [(status, body)] * REPEATS
    canned.requests.clear()
    session, _ = make_session(canned.url(), seconds=3.0)
    try:
        return action(session)
    except CloudError as exc:
        return exc
    finally:
        canned.answers.clear()


def assert_clear(failure: CloudFailure) -> None:
    assert failure.code and failure.action.startswith("cmq:")
    assert isinstance(failure.message, str) and 0 < len(failure.message) <= cmq.MESSAGE_CHARS


def failure_of(got: Any) -> CloudFailure:
    """The failure a call reported: raised, or (delete reports each handle instead of raising) every handle's."""
    if isinstance(got, cmq.DeleteResult):
        assert got.deleted == () and got.stale == () and set(got.failed) == {"h1", "h2"}
        (failure,) = set(got.failed.values())
        return failure
    assert isinstance(got, CloudError), got
    return got.failure


@pytest.mark.parametrize("action", ACTIONS, ids=["receive", "delete", "send"])
@pytest.mark.parametrize("body, says", [
    (json.dumps({"code": "²", "message": "x"}), "no integer code (code is the string '²')"),
    (json.dumps({"code": "--5"}), "no integer code"),
    (json.dumps({"code": "9" * 5000}), "no integer code"),
    ("[" * 100_000 + "]" * 100_000, "nested deeper than the JSON parser's recursion limit"),
    ('{"code": 0' + ', "a": ' + "[" * 50_000, "nested deeper"),
    ('{"code": 0, "msgInfoList": [', "not JSON"),
    ("<html>bad gateway</html>", "not JSON: <html>bad gateway</html>"),
    ("[1, 2]", "a JSON list, not an object"),
    (json.dumps({"code": 0.0}), "no integer code (code is a float)"),
])
def test_an_unreadable_answer_is_a_cloud_error_that_says_why(canned: Canned, body: str, says: str, action: Callable[[Any], Any]) -> None:
    failure = failure_of(outcome(canned, body, action))
    assert_clear(failure)
    assert says in failure.message


def test_an_error_list_that_is_not_a_list_deletes_nothing_it_cannot_account_for(canned: Canned) -> None:
    for code in (6010, 6020):
        got = outcome(canned, json.dumps({"code": code, "message": "partly", "errorList": 5}), ACTIONS[1])
        assert isinstance(got, cmq.DeleteResult) and got.deleted == () and set(got.failed) == {"h1", "h2"}
        assert "errorList is a int, not a list" in got.failed["h1"].message


def test_a_message_list_that_is_not_a_list_is_an_error_not_an_empty_queue(canned: Canned) -> None:
    got = outcome(canned, json.dumps({"code": 0, "msgInfoList": {"msgId": "m1"}}), ACTIONS[0])
    assert isinstance(got, CloudError) and "msgInfoList a dict, not a list" in got.failure.message


def test_wrong_types_in_messages_and_errors_are_named_not_printed(canned: Canned) -> None:
    got = outcome(canned, json.dumps({"code": 4000, "message": {"deep": [1] * 10000}, "requestId": ["r"]}), ACTIONS[2])
    assert isinstance(got, CloudError) and got.failure.message == "(message is a dict)" and got.failure.request_id is None


# -- the property --------------------------------------------------------------------------------------

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)
codes = st.one_of(st.sampled_from([0, 7000, 4430, 6010, 6020, 4000, 6000, "0", "6010", "²", "٣", "-0", " 7000 "]), json_values)
entries = st.one_of(json_values, st.fixed_dictionaries({"code": codes, "message": json_values, "receiptHandle": st.sampled_from(["h1", "h2", 5, None])}))
shaped = st.fixed_dictionaries(
    {"code": codes},
    optional={"message": json_values, "Message": json_values, "requestId": json_values, "msgId": json_values,
              "msgInfoList": st.one_of(json_values, st.lists(st.one_of(json_values, st.fixed_dictionaries(
                  {"msgId": json_values, "receiptHandle": json_values},
                  optional={"msgBody": json_values, "enqueueTime": json_values, "nextVisibleTime": json_values,
                            "dequeueCount": json_values})), max_size=3)),
              "errorList": st.one_of(json_values, st.lists(entries, max_size=3))},
)
bodies = st.one_of(
    shaped.map(json.dumps),
    json_values.map(json.dumps),
    st.text(max_size=40),
    st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(min_value=1, max_value=3000).map(lambda depth: '{"code": 0, "msgInfoList": ' + "[" * depth + "]" * depth + "}"),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=bodies, which=st.integers(min_value=0, max_value=2), status=st.sampled_from([200, 200, 200, 404, 502]))
def test_any_answer_is_a_result_or_a_cloud_error(canned: Canned, body: str, which: int, status: int) -> None:
    got = outcome(canned, body, ACTIONS[which], status)
    if isinstance(got, CloudError):
        assert_clear(got.failure)
    elif which == 0:
        assert isinstance(got, list) and all(isinstance(m, cmq.QueueMessage) and isinstance(m.body, str) for m in got)
    elif which == 1:
        assert isinstance(got, cmq.DeleteResult)
        assert sorted(got.deleted + got.stale + tuple(got.failed)) == ["h1", "h2"]
        for failure in got.failed.values():
            assert_clear(failure)
    else:
        assert isinstance(got, str)
