"""One place that builds SDK clients and makes every cloud call: credentials, endpoint, rate limit,
retries with capped exponential backoff and full jitter, all inside the invocation's deadline.

SDK product modules are imported on first use, so an event that needs only CLB never loads ECM.
"""
from __future__ import annotations

import importlib
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import urlparse

from .. import metrics
from ..config import Settings
from ..log import decision
from ..model import CloudFailure
from ..scrub import scrub
from .deadline import Deadline
from .errors import BUSY_CODES, CloudError, is_retryable
from .ratelimit import RateLimiter
from .taskclock import clock_for

# service -> (client module, client class, models module, whether the API takes a region)
_SERVICES: Dict[str, Tuple[str, str, str, bool]] = {
    "cvm": ("tencentcloud.cvm.v20170312.cvm_client", "CvmClient", "tencentcloud.cvm.v20170312.models", True),
    "clb": ("tencentcloud.clb.v20180317.clb_client", "ClbClient", "tencentcloud.clb.v20180317.models", True),
    # ECM load-balancer APIs take no region ("本接口不需要传递此参数", docs/cloud-facts.md#ecm-takes-no-region): the SDK then sends no X-TC-Region.
    "ecm": ("tencentcloud.ecm.v20190719.ecm_client", "EcmClient", "tencentcloud.ecm.v20190719.models", False),
    "as": (
        "tencentcloud.autoscaling.v20180419.autoscaling_client",
        "AutoscalingClient",
        "tencentcloud.autoscaling.v20180419.models",
        True,
    ),
    "tdmq": ("tencentcloud.tdmq.v20200217.tdmq_client", "TdmqClient", "tencentcloud.tdmq.v20200217.models", True),
}

# service -> API version, called through the common package's CommonClient (`call_json`): no product
# package to ship or import. VPC's models.py alone is a 7 MB import for one read (DescribeNetworkInterfaces).
_COMMON: Dict[str, str] = {"vpc": "2017-03-12", "monitor": "2018-07-24"}

_limiters: Dict[float, RateLimiter] = {}


def _limiter(rate: float) -> RateLimiter:
    """Limiters outlive an invocation, so warm starts of one container share the budget."""
    if rate not in _limiters:
        _limiters[rate] = RateLimiter(rate)
    return _limiters[rate]


@dataclass
class CallCounter:
    """Counts calls per action: the figure the tests and the summary report."""

    counts: Dict[str, int] = field(default_factory=dict)
    failures: Dict[str, int] = field(default_factory=dict)
    """Failed attempts per `service:Action ErrorCode` (the metrics line's breakdown)."""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, service: str, action: str) -> None:
        with self.lock:
            key = f"{service}:{action}"
            self.counts[key] = self.counts.get(key, 0) + 1

    def fail(self, action: str, code: str) -> None:
        with self.lock:
            key = f"{action} {code}"
            self.failures[key] = self.failures.get(key, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class MissingCredentials(Exception):
    pass


class CloudSession:
    """The function's view of Tencent Cloud for one invocation."""

    BACKOFF_BASE = 0.2
    BACKOFF_CAP = 5.0
    REQUEST_TIMEOUT = 10.0
    ANSWER_SECONDS = 0.1
    BUSY_FLOOR = 0.1
    RESERVED_CALL_FLOOR = 0.1

    def __init__(
        self,
        settings: Settings,
        deadline: Deadline,
        sleep: Callable[[float], None] = time.sleep,
        rng: Optional[random.Random] = None,
    ) -> None:
        if not (settings.secret_id and settings.secret_key):
            raise MissingCredentials(
                "TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY are not set: bind a run role to the function"
            )
        self.settings = settings
        self.deadline = deadline
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.calls = CallCounter()
        metrics.watch(self.calls)
        self.limiter = _limiter(settings.rate_limit_per_second)
        self.latency = 0.0
        """Smoothed seconds per call: a call is not started when less time than this is left."""
        self.reserved_calls = 2
        """Calls' worth of time kept back for the final queue sends (at least the safety margin)."""
        self.acks_kept = 0
        """Calls' worth of time the final sends leave for deleting the queue messages they re-queued
        (consumer.py): a message re-queued and then not deleted comes back and is re-queued again."""
        self._local = threading.local()
        self.memo: Dict[str, Any] = {}
        """What later stages of this run may reuse instead of reading again (own_hooks.py: the groups' hooks)."""

    # -- clients -------------------------------------------------------------------------------------
    def _profile(self) -> Any:
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile

        http = HttpProfile()
        if self.settings.endpoint:
            url = urlparse(self.settings.endpoint)
            http.scheme = url.scheme or "http"
            http.endpoint = url.netloc or url.path
        http.reqTimeout = int(self.REQUEST_TIMEOUT)
        http.keepAlive = True
        return ClientProfile(httpProfile=http)

    def client(self, service: str, region: Optional[str] = None) -> Any:
        """A client per thread (the SDK's HTTP session is not documented as thread-safe), service and region."""
        cache: Dict[Tuple[str, str], Any] = self._local.__dict__.setdefault("clients", {})
        takes_region = service in _COMMON or _SERVICES[service][3]
        region = (region or self.settings.region) if takes_region else ""
        key = (service, region)
        if key not in cache:
            from tencentcloud.common.credential import Credential

            cred = Credential(self.settings.secret_id, self.settings.secret_key, self.settings.session_token)
            if service in _COMMON:
                from tencentcloud.common.common_client import CommonClient

                cache[key] = CommonClient(service, _COMMON[service], cred, region, self._profile())
            else:
                module_name, class_name, _, _ = _SERVICES[service]
                client_cls = getattr(importlib.import_module(module_name), class_name)
                cache[key] = client_cls(cred, region, self._profile())
        return cache[key]

    def request(self, service: str, action: str, params: Dict[str, Any]) -> Any:
        models = importlib.import_module(_SERVICES[service][2])
        req = getattr(models, f"{action}Request")()
        req._deserialize(params)
        return req

    # -- calls ---------------------------------------------------------------------------------------
    def call(
        self, service: str, action: str, params: Dict[str, Any], region: Optional[str] = None, essential: bool = False
    ) -> Dict[str, Any]:
        """Call one action and return its response as a dict; retry what is retryable while time allows.

        A call is started only if the time left (up to the safety margin; for an `essential` call, the
        queue sends that keep unfinished work, up to SCF's own limit) covers a typical call, and its
        HTTP timeout never reaches past that time.
        """
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        budget = self._final_budget if essential else self._work_budget
        attempt = 0
        while True:
            attempt += 1
            wait = self.limiter.wait_time(service, action)
            if wait > 0:
                self._sleep_within(budget, wait, service, action)
            if budget() < max(self.latency, 0.05):
                raise CloudError(_out_of_time(service, action))
            self.calls.add(service, action)
            started = time.monotonic()
            try:
                client = self.client(service, region)
                # The SDK reads its socket timeout from the connection object; keep it inside the budget.
                client.request.conn.timeout = min(self.REQUEST_TIMEOUT, max(budget(), 0.05))
                if service in _COMMON:
                    return dict(client.call_json(action, params)["Response"])
                response = getattr(client, action)(self.request(service, action, params))
                return json.loads(response.to_json_string())
            except TencentCloudSDKException as exc:
                failure = CloudFailure(
                    code=str(exc.get_code() or "ClientError"),
                    # Scrubbed before it is kept: an error page may echo the request's headers (X-TC-Token).
                    message=scrub(_text(exc.get_message()), self.settings.secrets)[:500],
                    action=f"{service}:{action}",
                    request_id=exc.get_request_id() or None,
                )
            finally:
                took = time.monotonic() - started
                # Rises at once with a slow call, falls slowly: the estimate errs towards stopping early.
                self.latency = max(took, 0.7 * self.latency + 0.3 * took)
            self.back_off(service, failure, attempt, budget)

    def back_off(self, service: str, failure: CloudFailure, attempt: int, budget: Callable[[], float]) -> None:
        """After the `attempt`-th try failed: raise `CloudError` if the failure is not worth another try,
        or if the pause and another call would not fit in `budget`; else log and wait. Shared with the
        clients that make their own HTTP calls (the CMQ data plane)."""
        self.calls.fail(failure.action, failure.code)
        if not is_retryable(failure.code):
            raise CloudError(failure)
        pause = self._pause(service, failure.code, attempt)
        if pause + max(self.latency, 0.05) >= budget():
            raise CloudError(failure)
        decision(
            "retrying",
            level=logging.DEBUG,
            action=failure.action,
            error_code=failure.code,
            cloud_request_id=failure.request_id,
            call_attempt=attempt,
            pause_seconds=round(pause, 3),
        )
        self.sleep(pause)

    def work_budget(self) -> float:
        """Seconds a non-essential call may take (what `call` allows without `essential`)."""
        return self._work_budget()

    def final_budget(self) -> float:
        """Seconds an essential call may take (what `call` allows with `essential=True`)."""
        return self._final_budget()

    def ack_budget(self) -> float:
        """Seconds a delete of handled queue messages may take: the final time, with what the sends left it."""
        return max(self.deadline.hard_remaining() - self.ANSWER_SECONDS, 0.0)

    def _final_budget(self) -> float:
        """Time left for the queue sends that keep unfinished work, less a moment to answer SCF and the
        deletes that must follow them (`acks_kept`)."""
        kept = self.acks_kept * max(self.latency, self.RESERVED_CALL_FLOOR)
        return max(self.deadline.hard_remaining() - self.ANSWER_SECONDS - kept, 0.0)

    def _work_budget(self) -> float:
        """Time left for non-essential calls: enough is always kept back for the sends that queue leftovers.

        Each kept-back send counts at least `RESERVED_CALL_FLOOR`: the latency estimate follows calls that
        went well, and a send after the real work that finds the time gone loses the event's refusals to
        SCF's retry (chaos seeds 44 and 188, on a loaded machine)."""
        calls = self.reserved_calls + self.acks_kept
        return self.deadline.remaining(reserve=calls * max(self.latency, self.RESERVED_CALL_FLOOR))

    def _pause(self, service: str, code: str, attempt: int) -> float:
        """How long to wait before retrying: on the load balancer's task clock when it is busy, within
        the API's one-second window when throttled, else capped exponential backoff with full jitter."""
        # Many invocations may wait on one load balancer or one action's quota: each retry waits about
        # twice as long as the last (up to 16 times the first), so contenders spread out instead of
        # spending the shared 20-a-second budget on refusals.
        growth = 2 ** min(attempt - 1, 2)
        if code.startswith(BUSY_CODES):
            task = clock_for(service, self.settings.task_poll_seconds).expected()
            return min(self.BACKOFF_CAP, max(self.BUSY_FLOOR, task) * self.rng.uniform(0.5, 1.5) * growth)
        if code.startswith("RequestLimitExceeded"):
            return min(self.BACKOFF_CAP, 0.5 * self.rng.uniform(0.5, 1.5) * growth)
        return self.rng.uniform(0, min(self.BACKOFF_CAP, self.BACKOFF_BASE * 2 ** (attempt - 1)))

    def _sleep_within(self, budget: Callable[[], float], seconds: float, service: str, action: str) -> None:
        if seconds >= budget():
            raise CloudError(_out_of_time(service, action))
        self.sleep(seconds)

    def wait_for_task(self, service: str, action: str, task_id: str, region: Optional[str] = None) -> Tuple[int, str]:
        """Poll an async task until it ends: (status, message); status 0 success, 1 failed (docs/cloud-facts.md#clb-deregistertargets-and-describetaskstatus).

        The first poll comes after about as long as this process has seen tasks take (before any,
        `task_poll_seconds`); the next a quarter of that later, then each 1.5 times further apart, never
        more than `task_poll_seconds`. A null status counts as running. A task still running at the
        deadline is reported as status 2 and the caller treats the work as not done.
        """
        clock = clock_for(service, self.settings.task_poll_seconds)
        expected = clock.expected()
        started = time.monotonic()
        wait = expected
        polls = 0
        previous_poll = started
        while True:
            self.sleep(min(wait, max(self.deadline.remaining() - 0.5, 0)))
            asked = time.monotonic()
            reply = self.call(service, action, {"TaskId": task_id}, region=region)
            polls += 1
            # ECM's Status "可能返回 null" (SDK models): no valid value yet, so the task is still running.
            raw = reply.get("Status")
            status = 2 if raw is None else int(raw)
            if status != 2:
                # It ended before we asked: at the first poll that is all we know, later ones bracket it.
                clock.record(asked - started if polls == 1 else (previous_poll + asked) / 2 - started)
                return status, str(reply.get("Message") or "")
            if self.deadline.remaining() <= 0.6:
                return 2, "task still running when the invocation's time ran out"
            wait = min(max(expected / 4, 0.02) if polls == 1 else wait * 1.5, self.settings.task_poll_seconds)
            previous_poll = asked


def _text(message: Any) -> str:
    """The SDK puts a non-200 answer's raw body (bytes) in the message of ServerNetworkError."""
    if isinstance(message, bytes):
        return message.decode("utf-8", "replace")
    return str(message or "")


def _out_of_time(service: str, action: str) -> CloudFailure:
    return CloudFailure("ClientDeadlineExceeded", "not enough of the invocation's time left for this call", f"{service}:{action}")


def chunks(items: List[Any], size: int) -> List[List[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]
