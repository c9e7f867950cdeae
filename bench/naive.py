"""The naive strategy, written directly with the SDK, for comparison.

For each lifecycle notice, one after the other: scan every load balancer of the region with CLB
`DescribeLoadBalancers` (pages of 100) and `DescribeTargets` per load balancer to find the instance,
then unbind per listener / layer-7 rule with `DeregisterTargets` (≤ 20 targets per call), waiting for
each task with `DescribeTaskStatus` (a fixed poll interval), then `CompleteLifecycleAction`.

It is naive, not careless: it paces itself to 18 requests a second per action (the API allows 20), waits and
retries `RequestLimitExceeded` (1 s), `FailedOperation.ResourceInOperating` (one poll interval) and
network errors (0.5 s), and so it does finish every workload. It finds binds by `InstanceId` only (the workloads bind that way).
"""
from __future__ import annotations

import json
import threading
import time
from collections import Counter
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import urlparse

from tencentcloud.autoscaling.v20180419 import autoscaling_client
from tencentcloud.autoscaling.v20180419 import models as as_models
from tencentcloud.clb.v20180317 import clb_client
from tencentcloud.clb.v20180317 import models as clb_models
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile

POLL_SECONDS = 0.25
RATE_PER_SECOND = 18.0  # just under the API's 20 a second per action, so a paced loop is not refused
PAGE = 100
DEREGISTER_MAX = 20  # DeregisterTargets: at most 20 targets per call (docs/cloud-facts.md#clb-deregistertargets-and-describetaskstatus)


class Naive:
    def __init__(self, endpoint: str, secret_id: str, secret_key: str, region: str = "ap-guangzhou",
                 token: Optional[str] = None, poll_seconds: float = POLL_SECONDS, rate_per_second: float = RATE_PER_SECOND) -> None:
        url = urlparse(endpoint)
        profile = ClientProfile(httpProfile=HttpProfile(protocol=url.scheme or "http", endpoint=url.netloc))
        cred = credential.Credential(secret_id, secret_key, token)
        self.clb = clb_client.ClbClient(cred, region, profile)
        self.autoscaling = autoscaling_client.AutoscalingClient(cred, region, profile)
        self.poll_seconds = poll_seconds
        self.min_gap = 1.0 / rate_per_second if rate_per_second > 0 else 0.0
        self.calls: Counter = Counter()
        self._last: Dict[str, float] = {}
        self._lock = threading.Lock()

    # -- one API call, paced and retried -------------------------------------------------------------
    def call(self, client: Any, models: Any, action: str, params: Dict[str, Any]) -> Dict[str, Any]:
        while True:
            self._pace(action)
            request = getattr(models, f"{action}Request")()
            request.from_json_string(json.dumps(params))
            self.calls[action] += 1
            try:
                return json.loads(getattr(client, action)(request).to_json_string())
            except TencentCloudSDKException as exc:
                code = exc.get_code() or ""
                if code.startswith("RequestLimitExceeded"):
                    time.sleep(1.0)
                elif code == "FailedOperation.ResourceInOperating":
                    time.sleep(self.poll_seconds)
                elif code in ("ClientNetworkError", "ServerNetworkError"):
                    time.sleep(0.5)  # e.g. the emulator's listen backlog overflowed; an unbind is safe to repeat
                else:
                    raise

    def _pace(self, action: str) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._last.get(action, 0.0) + self.min_gap - now
            self._last[action] = now + max(wait, 0.0)
        if wait > 0:
            time.sleep(wait)

    # -- the strategy ----------------------------------------------------------------------------------
    def load_balancer_ids(self) -> List[str]:
        ids: List[str] = []
        offset = 0
        while True:
            reply = self.call(self.clb, clb_models, "DescribeLoadBalancers", {"Offset": offset, "Limit": PAGE})
            ids += [lb["LoadBalancerId"] for lb in reply.get("LoadBalancerSet") or []]
            offset += PAGE
            if offset >= int(reply.get("TotalCount") or 0):
                return ids

    def targets_of(self, load_balancer_id: str, instance_id: str) -> Dict[Tuple[str, Optional[str]], List[int]]:
        """(listener id, location id or None) -> ports the instance is bound on, in that list."""
        reply = self.call(self.clb, clb_models, "DescribeTargets", {"LoadBalancerId": load_balancer_id})
        found: Dict[Tuple[str, Optional[str]], List[int]] = {}

        def take(key: Tuple[str, Optional[str]], targets: Iterable[Dict[str, Any]]) -> None:
            ports = [t["Port"] for t in targets if t.get("InstanceId") == instance_id]
            if ports:
                found[key] = ports

        for listener in reply.get("Listeners") or []:
            take((listener["ListenerId"], None), listener.get("Targets") or [])
            for rule in listener.get("Rules") or []:
                take((listener["ListenerId"], rule["LocationId"]), rule.get("Targets") or [])
        return found

    def wait(self, task_id: str) -> int:
        while True:
            time.sleep(self.poll_seconds)
            status = int(self.call(self.clb, clb_models, "DescribeTaskStatus", {"TaskId": task_id}).get("Status", 2))
            if status != 2:
                return status

    def unbind(self, instance_id: str) -> int:
        removed = 0
        for load_balancer_id in self.load_balancer_ids():
            for (listener_id, location_id), ports in self.targets_of(load_balancer_id, instance_id).items():
                for start in range(0, len(ports), DEREGISTER_MAX):
                    params: Dict[str, Any] = {
                        "LoadBalancerId": load_balancer_id, "ListenerId": listener_id,
                        "Targets": [{"InstanceId": instance_id, "Port": p} for p in ports[start : start + DEREGISTER_MAX]],
                    }
                    if location_id:
                        params["LocationId"] = location_id
                    reply = self.call(self.clb, clb_models, "DeregisterTargets", params)
                    if self.wait(reply["RequestId"]) == 0:
                        removed += len(params["Targets"])
        return removed

    def complete(self, hook_id: str, token: str) -> None:
        self.call(self.autoscaling, as_models, "CompleteLifecycleAction",
                  {"LifecycleHookId": hook_id, "LifecycleActionToken": token, "LifecycleActionResult": "CONTINUE"})

    def handle(self, event: Dict[str, Any]) -> Dict[str, Any]:
        """A CMQ event of lifecycle notifications, one record after the other."""
        done = []
        for record in event.get("Records") or []:
            body = json.loads(record["CMQ"]["msgBody"])
            if body.get("LifecycleTransition") != "INSTANCE_TERMINATING":
                continue
            removed = self.unbind(body["InstanceId"])
            self.complete(body["LifecycleHookId"], body["LifecycleActionToken"])
            done.append({"instanceId": body["InstanceId"], "removed": removed})
        return {"instances": done, "apiCalls": dict(self.calls)}


def main_handler(event: Dict[str, Any], env: Dict[str, str], poll_seconds: float = POLL_SECONDS) -> Dict[str, Any]:
    naive = Naive(env["CLB_UNBIND_ENDPOINT"], env["TENCENTCLOUD_SECRETID"], env["TENCENTCLOUD_SECRETKEY"],
                  env.get("TENCENTCLOUD_REGION", "ap-guangzhou"), env.get("TENCENTCLOUD_SESSIONTOKEN"), poll_seconds=poll_seconds)
    return naive.handle(event)
