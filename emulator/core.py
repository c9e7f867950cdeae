"""The :class:`Emulator`: state, request pipeline and the Python API tests use.

Request pipeline (each step can end the request with an API error, HTTP 200):

1. transport: POST with ``Content-Type: application/json`` (the SDK's TC3 POST shape);
2. ``Authorization`` parsed → ``AuthFailure.InvalidAuthorization``; SecretId looked up →
   ``AuthFailure.SecretIdNotFound``; ``X-TC-Timestamp`` within ``max_clock_skew_seconds`` →
   ``AuthFailure.SignatureExpire``; signature recomputed (:mod:`emulator.signing`) →
   ``AuthFailure.SignatureFailure``; session token compared → ``AuthFailure.TokenFailure``;
3. product from the credential scope → ``NoSuchProduct``; ``X-TC-Version`` → ``NoSuchVersion``;
   ``X-TC-Action`` → ``InvalidAction``; ``X-TC-Region`` (regional products) → ``MissingParameter`` /
   ``UnsupportedRegion``;
4. rate limit per (service, action) → ``RequestLimitExceeded``;
5. random ``InternalError`` (``error_rate``), before anything is applied;
6. body checked against the SDK request model (:mod:`emulator.strict`);
7. the action handler runs under the emulator lock, after due tasks are settled;
8. the reply is checked against the SDK response model (a mismatch is an emulator bug, answered
   ``InternalError`` so tests notice); writes may then lose their reply (``drop_reply_rate``).

A form-encoded POST carrying ``Action`` is a CMQ data-plane request instead and goes through
:class:`emulator.cmq.dataplane.CmqDataPlane` (same port, same credentials, same queues).
"""
from __future__ import annotations

import copy
import dataclasses
import json
import random
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import errors as E
from . import scaling
from . import spec as spec_api
from .cmq.broker import Broker
from .cmq.dataplane import CmqDataPlane
from .cmq.wire import is_cmq_request
from .errors import ApiError
from .estate import Estate
from .faults import Knobs, RateLimiter
from .reply import Reply
from .services import SERVICES, Ctx
from .signing import matches, parse_authorization, signature, utc_date
from .spec_fill import UNMODELLED
from .strict import check_request, model_class, reply_problems
from .tasks import TaskBoard

# Public regions (cloud.tencent.com/document/api/213/15692 "地域列表"); regions of the estate are added.
KNOWN_REGIONS = frozenset({
    "ap-guangzhou", "ap-shanghai", "ap-nanjing", "ap-beijing", "ap-chengdu", "ap-chongqing", "ap-hongkong",
    "ap-taipei", "ap-singapore", "ap-jakarta", "ap-seoul", "ap-tokyo", "ap-mumbai", "ap-bangkok",
    "na-siliconvalley", "na-ashburn", "na-toronto", "sa-saopaulo", "eu-frankfurt", "eu-moscow",
    "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-beijing-fsi",
})


@dataclass
class CallRecord:
    """One API request as the emulator saw it (admin ``GET /_emulator/calls`` lists these)."""

    service: str
    action: str
    version: str
    params: dict
    response: dict
    error_code: str | None
    at: float
    dropped: bool = False
    request_id: str = ""
    region: str = ""


class Emulator:
    """A local Tencent Cloud API 3.0 endpoint over an in-memory estate.

    ``Emulator(estate_dict_or_Estate, knobs=Knobs(...))`` or ``Emulator.from_file(path, knobs=...)``;
    ``start()`` serves on 127.0.0.1 (``port=0`` picks a free port) in a daemon thread.
    """

    def __init__(self, estate: dict[str, Any] | Estate, knobs: Knobs | None = None, *,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        self._estate = estate if isinstance(estate, Estate) else Estate.from_dict(copy.deepcopy(estate))
        self._knobs = knobs or Knobs()
        self._rng = random.Random(self._knobs.seed)
        self._lock = threading.RLock()
        self._tasks = TaskBoard()
        self._limiter = RateLimiter()
        self._calls: list[CallRecord] = []
        self._msg_seq = 281474976710656
        self._broker = Broker(self._estate.queues, self._lock, self._next_msg_id)
        self._cmq = CmqDataPlane(self._estate, self._broker, self._limiter, self._lock, lambda: self._knobs,
                                 lambda: self._rng, self._record)
        self._server = None
        self._thread: threading.Thread | None = None
        self.host = host
        self.port = port
        self.endpoint: str | None = None

    @classmethod
    def from_file(cls, path: str | Path, knobs: Knobs | None = None, **kwargs: Any) -> "Emulator":
        with open(path, encoding="utf-8") as fh:
            return cls(json.load(fh), knobs=knobs, **kwargs)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> str:
        """Serve in a daemon thread; returns ``self.endpoint`` (``http://127.0.0.1:PORT``)."""
        from .server import make_server

        if self._server is not None:
            return self.endpoint or ""
        self._server = make_server(self, self.host, self.port)
        self.port = self._server.server_address[1]
        self.endpoint = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="tencent-emulator", daemon=True)
        self._thread.start()
        return self.endpoint

    def serve_forever(self) -> None:
        """Serve in the calling thread (used by ``python -m emulator``)."""
        from .server import make_server

        if self._server is None:
            self._server = make_server(self, self.host, self.port)
            self.port = self._server.server_address[1]
            self.endpoint = f"http://{self.host}:{self.port}"
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is None:
            return
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server = None
        self._thread = None

    def __enter__(self) -> "Emulator":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ Python API
    @property
    def host_port(self) -> str:
        """``127.0.0.1:PORT``, the value for ``HttpProfile(endpoint=...)``."""
        return f"{self.host}:{self.port}"

    @property
    def credentials(self) -> tuple[str, str, str | None]:
        c = self._estate.credentials[0]
        return c.secret_id, c.secret_key, c.token

    @property
    def knobs(self) -> Knobs:
        return self._knobs

    def set_knobs(self, **changes: Any) -> Knobs:
        """Change knobs at runtime (unknown names raise ``ValueError``); a new ``seed`` re-seeds."""
        with self._lock:
            new = self._knobs.updated(**changes)
            new.validate()
            self._knobs = new
            if "seed" in changes:
                self._rng = random.Random(new.seed)
            return new

    @property
    def calls(self) -> list[CallRecord]:
        with self._lock:
            return list(self._calls)

    def clear_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def count(self, action: str, service: str | None = None) -> int:
        with self._lock:
            return sum(1 for c in self._calls if c.action == action and (service is None or c.service == service))

    def bindings(self, instance_or_ip: str) -> list[dict[str, Any]]:
        """Current bindings of a CVM/ECM instance (any of its IPs, in its VPC) or of a bare IP."""
        with self._lock:
            self._settle()
            inst = self._estate.instances.get(instance_or_ip)
            if inst is not None:
                ips, kind, vpc = set(inst.private_ips), ("ecm" if inst.kind == "ecm" else "clb"), inst.vpc_id
            else:
                ips, kind, vpc = {instance_or_ip}, None, None
            out = []
            for lb, listener, location_id, t in self._estate.iter_bindings():
                if t.ip in ips and (kind is None or lb.kind == kind) and (vpc is None or t.vpc_id == vpc):
                    out.append({"loadBalancerId": lb.lb_id, "listenerId": listener.listener_id,
                                "locationId": location_id, "port": t.port, "privateIp": t.ip, "weight": t.weight})
            # Target-group memberships and classic backends (emulator/bindings.py), marked by "kind", with the
            # same keys as a listener's target (the group, or the classic load balancer, as "loadBalancerId").
            for tg in self._estate.extras.target_groups.values():
                for m in tg.members:
                    if m.ip in ips and kind in (None, "clb") and (vpc is None or tg.vpc_id == vpc):
                        out.append({"kind": "targetGroup", "loadBalancerId": tg.target_group_id, "listenerId": "",
                                    "locationId": None, "targetGroupId": tg.target_group_id, "port": m.port,
                                    "privateIp": m.ip, "weight": m.weight})
            if inst is not None:
                for lb_id, members in self._estate.extras.classic.items():
                    if inst.instance_id in members:
                        out.append({"kind": "classic", "loadBalancerId": lb_id, "listenerId": "", "locationId": None,
                                    "instanceId": inst.instance_id, "port": 0, "privateIp": inst.primary_ip, "weight": 10})
            return out

    def messages(self, queue: str) -> list[dict[str, Any]]:
        """Messages of ``queue`` not yet deleted (nor moved to its dead-letter queue), oldest first:
        ``{"msgId","body","delaySeconds","at","state","dequeueCount","nextVisibleTime","source"}``."""
        with self._lock:
            self._queue(queue)
            return self._broker.messages(queue, self._wall())

    def queue_state(self, queue: str) -> dict[str, int]:
        """``{"visible","inFlight","delayed"}`` message counts of ``queue``."""
        with self._lock:
            self._queue(queue)
            return self._broker.counts(queue, self._wall())

    def queue_states(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {name: self._broker.counts(name, self._wall()) for name in self._estate.queues}

    def _queue(self, queue: str) -> None:
        if queue not in self._estate.queues:
            raise KeyError(f"no queue {queue!r} in the estate")

    def lifecycle_results(self) -> list[dict[str, Any]]:
        """Lifecycle actions and their outcome; ``completions`` counts CompleteLifecycleAction calls
        that reached the action (the accepted one plus any refused with ``LifecycleActionResultHasSet``)."""
        with self._lock:
            return [{"lifecycleHookId": a.hook_id, "instanceId": a.instance_id, "token": a.token,
                     "result": a.result, "completions": a.completions} for a in self._estate.lifecycle_actions]

    def scale_in(self, group_id: str, instance_ids: list[str], publish: bool = True) -> dict[str, Any]:
        """Start a scale-in as Auto Scaling would (:func:`emulator.scaling.scale_in`): each instance goes
        IN_TERMINATING_HOOK with a pending action per INSTANCE_TERMINATING hook of the group (fresh
        tokens, one ActivityId) and, with ``publish``, the hook's notification goes into its queue.

        Returns ``{"activityId", "groupId", "actions": [{"instanceId", "lifecycleHookId",
        "lifecycleActionToken", "queue", "msgId", "published"}], "terminating": [ids without a hook]}``.
        """
        with self._lock:
            return scaling.scale_in(self._estate, self._broker, group_id, list(instance_ids), self._wall(), publish)

    def auto_scaling_instances(self, group_id: str | None = None) -> list[dict[str, Any]]:
        """``[{"instanceId", "autoScalingGroupId", "lifeCycleState"}]`` of every group (or one)."""
        with self._lock:
            scaling.leave(self._estate, self._wall(), self._knobs.as_terminate_seconds)
            return [{"instanceId": m.instance_id, "autoScalingGroupId": g.group_id, "lifeCycleState": m.state}
                    for g in self._estate.groups.values() if group_id in (None, g.group_id)
                    for m in g.members.values()]

    def lock_load_balancer(self, lb_id: str, seconds: float) -> None:
        """Simulate another party's task on ``lb_id`` (a load balancer, or a target group: its writes are
        refused while its own task runs, ``services/clb_bindings.py``) for ``seconds``."""
        with self._lock:
            if lb_id not in self._estate.load_balancers and lb_id not in self._estate.extras.target_groups:
                raise KeyError(f"no load balancer or target group {lb_id!r} in the estate")
            self._tasks.lock(lb_id, seconds, self._now())

    def set_connections(self, ip: str, connections: int, close_per_period: int = 0, stuck: int = 0) -> None:
        """Backend ``ip``'s connections as Cloud Monitor will report them (``emulator/connections.py``)."""
        from .connections import Profile

        if not 0 <= stuck <= connections or close_per_period < 0:
            raise ValueError("need 0 <= stuck <= connections and close_per_period >= 0")
        with self._lock:
            self._estate.connections.profiles[ip] = Profile(connections, close_per_period, stuck)

    def release_load_balancer(self, lb_id: str) -> None:
        """End a `lock_load_balancer` early."""
        with self._lock:
            self._tasks.release(lb_id)

    def tasks(self) -> list[dict[str, Any]]:
        with self._lock:
            self._settle()
            return self._tasks.snapshot(self._now())

    def state(self) -> dict[str, Any]:
        """Snapshot: the estate (in the estate-file format), tasks and knobs."""
        with self._lock:
            self._settle()
            snap = self._estate.to_dict()
            for q in snap["queues"]:
                counts = self._broker.counts(q["name"], self._wall())
                q.update(counts, messages=sum(counts.values()))
            snap["tasks"] = self._tasks.snapshot(self._now())
            snap["knobs"] = self._knobs.to_dict()
            snap["endpoint"] = self.endpoint
            return snap

    def end_wait(self, instance_id: str, reason: str, ended_at: float | None = None) -> list[str]:
        """Auto Scaling ends the instance's wait itself (``HEARTBEAT_TIMEOUT``, ``NOTIFICATION_FAILURE``,
        ``ANOTHER_ACTION_ABANDON``): :func:`emulator.scaling.end_wait`. Returns the hooks ended."""
        with self._lock:
            return scaling.end_wait(self._estate, instance_id, reason, self._wall(), ended_at)

    def ship_logs(self, topic_id: str, lines: Any, function: str = "") -> int:
        """Store a function's printed lines in a CLS topic, as SCF's log shipping would (services/cls.py)."""
        from .services import cls

        with self._lock:
            return cls.ingest(self._estate, topic_id, lines, function=function)

    def calls_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(c) for c in self.calls]

    # ------------------------------------------------------------------ internals used by services
    def _roll(self, rate: float) -> bool:
        return rate > 0 and self._rng.random() < rate

    @staticmethod
    def _now() -> float:
        return time.monotonic()

    @staticmethod
    def _wall() -> float:
        return time.time()

    def _next_msg_id(self) -> int:
        self._msg_seq += 1
        return self._msg_seq

    def _settle(self) -> None:
        self._tasks.settle(self._now())

    # ------------------------------------------------------------------ request pipeline
    def handle_api(self, method: str, path: str, query: str, headers: dict[str, str], body: bytes) -> Reply:
        """Run one request through the API 3.0 pipeline, or the CMQ data plane's when it is a
        form-encoded CMQ request (:func:`emulator.cmq.wire.is_cmq_request`); ``headers`` keyed lower-case."""
        if is_cmq_request(method, path, headers, body):
            return self._cmq.handle(method, path, headers, body)
        request_id = str(uuid.uuid4())
        action = headers.get("x-tc-action", "")
        version = headers.get("x-tc-version", "")
        region = headers.get("x-tc-region", "")
        auth = parse_authorization(headers.get("authorization"))
        service = auth.service if auth else ""
        params: dict[str, Any] = {}
        judged: spec_api.Observation | None = None
        with self._lock:
            knobs = self._knobs
            delay = knobs.latency_seconds
            try:
                spec, action_spec = self._admit(method, path, query, headers, body, auth, action, version, region)
                try:
                    params = json.loads(body.decode("utf-8") or "{}")
                except (UnicodeDecodeError, ValueError):
                    raise ApiError(E.INVALID_PARAMETER, "The request body is not valid JSON.") from None
                judged = _judge_request(service, version, action, params)
                if knobs.applies_to(service, action) and self._roll(knobs.error_rate):
                    raise E.internal_error()
                models = spec.models
                check_request(model_class(models, f"{action}Request"), params)
                self._settle()
                ctx = Ctx(estate=self._estate, knobs=knobs, tasks=self._tasks, rng=self._rng, service=service,
                          action=action, region=region, request_id=request_id, now=self._now(), wall=self._wall(),
                          next_msg_id=self._next_msg_id, queues=self._broker, emu=self)
                result = action_spec.handler(ctx, params)
                response = dict(result)
                response["RequestId"] = request_id
                example = spec_api.example_reply(service, version, action) if knobs.examples_for(service, action) else None
                if example is not None:
                    self._record(service, action, version, params, response, None, request_id, region)
                    return self._example_reply(judged, example, request_id, models, delay)
                response, filled = spec_api.fill(service, version, action, response, UNMODELLED.get(service, {}))
                judged = dataclasses.replace(judged, filled=tuple(sorted(filled)))
                if knobs.nulls_for(service, action):
                    response, nulled = spec_api.nullify(service, version, action, response, knobs.spec_nulls_inner)
                    judged = dataclasses.replace(judged, nulled=tuple(sorted(nulled)))
                problems = reply_problems(model_class(models, f"{action}Response"), response)
                if problems:
                    print(f"emulator: reply of {service}.{action} does not fit the SDK model: {problems}", file=sys.stderr)
                    raise ApiError(E.INTERNAL_ERROR, f"emulator bug: reply does not fit the SDK model: {problems}")
                problems, members = spec_api.reply_problems(service, version, action, response)
                judged = dataclasses.replace(judged, reply_problems=tuple(problems), reply_members=tuple(sorted(members)))
                if problems:
                    print(f"emulator: reply of {service}.{action} does not fit api.json: {problems}", file=sys.stderr)
                    raise ApiError(E.INTERNAL_ERROR, f"emulator bug: reply does not fit api.json: {problems}")
                self._check_asynchrony(service, version, action, request_id, knobs)
            except ApiError as err:
                response = {"Error": {"Code": err.code, "Message": err.message}, "RequestId": request_id}
                if judged is not None:
                    spec_api.record(dataclasses.replace(judged, error_code=err.code))
                self._record(service, action, version, params, response, err.code, request_id, region)
                return Reply(200, _json({"Response": response}), delay=delay)
            assert judged is not None
            spec_api.record(judged)
            dropped = (action_spec.write and knobs.applies_to(service, action) and self._roll(knobs.drop_reply_rate))
            self._record(service, action, version, params, response, None, request_id, region, dropped)
            if dropped:
                if knobs.drop_reply_mode in ("http502", "http502_echo"):
                    echo = "".join(f"<br>{k}: {v}" for k, v in headers.items()) if knobs.drop_reply_mode == "http502_echo" else ""
                    return Reply(502, f"<html><body>502 Bad Gateway{echo}</body></html>".encode(), delay=delay,
                                 headers={"Content-Type": "text/html"})
                return Reply(0, drop=True, delay=delay)
            return Reply(200, _json({"Response": response}), delay=delay)

    def _admit(self, method, path, query, headers, body, auth, action, version, region):
        """Steps 1–4 of the pipeline; returns the service and action specs."""
        if method != "POST" or not headers.get("content-type", "").lower().startswith("application/json"):
            raise ApiError(E.INVALID_PARAMETER,
                           "The emulator accepts POST with Content-Type application/json (TC3-HMAC-SHA256) only.")
        if auth is None:
            raise ApiError(E.AUTH_INVALID_AUTHORIZATION,
                           "The Authorization header does not follow the TC3-HMAC-SHA256 standard.")
        cred = self._estate.credential(auth.secret_id)
        if cred is None:
            raise ApiError(E.AUTH_SECRET_ID_NOT_FOUND, "The SecretId is not found, please ensure that your SecretId is correct.")
        raw_ts = headers.get("x-tc-timestamp", "")
        try:
            ts = int(raw_ts)
        except ValueError:
            raise ApiError(E.MISSING_PARAMETER if not raw_ts else E.INVALID_PARAMETER,
                           "The request requires a valid `X-TC-Timestamp`.") from None
        now = int(self._wall())
        if abs(now - ts) > self._knobs.max_clock_skew_seconds:
            raise ApiError(E.AUTH_SIGNATURE_EXPIRE,
                           f"Signature expired. Timestamp is {ts}, server time is {now}, "
                           f"the gap exceeds {self._knobs.max_clock_skew_seconds} seconds.")
        expected = signature(cred.secret_key, method=method, uri=path, query=query, headers=headers,
                             signed_headers=auth.signed_headers, payload=body, timestamp=raw_ts,
                             date=auth.date, service=auth.service)
        if auth.date != utc_date(ts) or not matches(expected, auth.signature):
            raise ApiError(E.AUTH_SIGNATURE_FAILURE,
                           "The provided credentials could not be validated. Please check your signature is correct.")
        if (headers.get("x-tc-token") or None) != cred.token:
            raise ApiError(E.AUTH_TOKEN_FAILURE, "The session token is invalid.")
        spec = SERVICES.get(auth.service)
        if spec is None:
            raise ApiError(E.NO_SUCH_PRODUCT, f"The product `{auth.service}` does not exist (or is not emulated).")
        if version != spec.version:
            raise ApiError(E.NO_SUCH_VERSION, f"The requested version `{version}` of service `{spec.name}` does not exist.")
        action_spec = spec.actions.get(action)
        if action_spec is None:
            raise ApiError(E.INVALID_ACTION, f"The requested action `{action}` does not exist (or is not emulated).")
        if spec.region_required:
            if not region:
                raise E.missing("Region")
            if region not in KNOWN_REGIONS | self._estate.regions():
                raise ApiError(E.UNSUPPORTED_REGION, f"The region `{region}` is not supported.")
        limit = self._knobs.rate_limit_per_second
        admitted, seen = self._limiter.admit((spec.name, action), self._now(), limit)
        if not admitted:
            raise ApiError(E.REQUEST_LIMIT_EXCEEDED,
                           f"Your current request times equals to `{seen}` in a second, which exceeds the "
                           f"frequency limit `{limit}` for a second. Please reduce the frequency of calls.")
        return spec, action_spec

    def _example_reply(self, judged: spec_api.Observation, example: tuple[str, dict[str, Any]], request_id: str,
                       models: str, delay: float) -> Reply:
        """Knob ``spec_examples``: Tencent's example reply instead of the emulator's (the work is done and
        recorded). Its own misfits with the SDK model and api.json are journalled, not refused: it is
        Tencent's reply, and the point is whether the caller's reading code copes with it."""
        title, body = example
        response = {**body, "RequestId": request_id}
        sdk = reply_problems(model_class(models, f"{judged.action}Response"), response)
        spec_problems, members = spec_api.reply_problems(judged.service, judged.version, judged.action, response)
        spec_api.record(dataclasses.replace(judged, example=title, reply_members=tuple(sorted(members)),
                                            example_problems=tuple([f"SDK model: {p}" for p in sdk] + spec_problems)))
        return Reply(200, _json({"Response": response}), delay=delay)

    def _check_asynchrony(self, service: str, version: str, action: str, request_id: str, knobs: Knobs) -> None:
        """A write the emulator runs as a task (still running when it answers) must be one api.json
        documents as asynchronous, and the other way round (:func:`emulator.spec.asynchronous`)."""
        task = self._tasks.get(request_id)
        if task is None or (service, action) in knobs.async_overrides():
            return
        emulated = not task.done
        documented = spec_api.asynchronous(service, version, action)
        if emulated != documented:
            what = "a task" if emulated else "synchronous"
            raise ApiError(E.INTERNAL_ERROR, f"emulator bug: {service}.{action} is emulated as {what}, but "
                                             f"{spec_api.tccli_spec.source(service, version)} says otherwise")

    def _record(self, service, action, version, params, response, code, request_id, region, dropped=False) -> None:
        self._calls.append(CallRecord(service, action, version, params if isinstance(params, dict) else {},
                                      response, code, self._wall(), dropped, request_id, region))


def _judge_request(service: str, version: str, action: str, params: Any) -> spec_api.Observation:
    problems, members = spec_api.request_problems(service, version, action, params)
    return spec_api.Observation(service, version, action, request_problems=tuple(problems),
                                request_members=tuple(sorted(members)))


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")
