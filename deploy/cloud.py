"""The operator tool's one way to Tencent Cloud: credentials, endpoint, SDK clients, and the line
between reads and writes that makes ``--dry-run`` safe.

* Endpoint: ``CLB_UNBIND_ENDPOINT`` (a base URL such as ``http://127.0.0.1:9000``), exactly as the
  function reads it (handler ``cloud/session.py``): every call of every service goes there; unset,
  each service's public endpoint.
* Credentials (docs/design.md#operator-commands): as every tool of the project finds them (handler ``clb_unbind/credentials.py``): the
  SDK's ``DefaultCredentialProvider`` chain, then the names SCF gives a function,
  ``TENCENTCLOUD_SECRETID``/``TENCENTCLOUD_SECRETKEY``/``TENCENTCLOUD_SESSIONTOKEN``.
* Error text: every API error is scrubbed of the credential's values (handler ``clb_unbind/scrub.py``)
  before it becomes an :class:`ApiFailure`: a gateway page that echoes request headers must not put
  the SecretId or the token on an operator's terminal or a CI log.
* CAM is not regional: its client gets region ``""`` and the SDK then sends no ``X-TC-Region``
  (the CAM API pages say of Region "本接口不需要传递此参数", e.g. doc 598/36223 GetRole; UNCONFIRMED
  for every CAM action used here).
"""
from __future__ import annotations

import importlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple
from urllib.parse import urlparse

# service -> (client module, client class, models module, regional)
SERVICES: Dict[str, Tuple[str, str, str, bool]] = {
    "scf": ("tencentcloud.scf.v20180416.scf_client", "ScfClient", "tencentcloud.scf.v20180416.models", True),
    "cam": ("tencentcloud.cam.v20190116.cam_client", "CamClient", "tencentcloud.cam.v20190116.models", False),
    "cls": ("tencentcloud.cls.v20201016.cls_client", "ClsClient", "tencentcloud.cls.v20201016.models", True),
    "tdmq": ("tencentcloud.tdmq.v20200217.tdmq_client", "TdmqClient", "tencentcloud.tdmq.v20200217.models", True),
    "as": ("tencentcloud.autoscaling.v20180419.autoscaling_client", "AutoscalingClient",
           "tencentcloud.autoscaling.v20180419.models", True),
    # check's listener reads (deploy/group_reads.py: DescribeListeners)
    "clb": ("tencentcloud.clb.v20180317.clb_client", "ClbClient", "tencentcloud.clb.v20180317.models", True),
}


READ_RETRIES = 5


class CredentialError(Exception):
    """No credentials anywhere the tool looks (exit status 2)."""


class ApiFailure(Exception):
    """An API answered with an error."""

    def __init__(self, action: str, code: str, message: str, request_id: str = "") -> None:
        super().__init__(f"{action}: {code}: {message}")
        self.action = action
        self.code = code
        self.message = message
        self.request_id = request_id

    @property
    def is_auth(self) -> bool:
        return self.code.startswith(("AuthFailure", "UnauthorizedOperation"))


def credentials(env: Optional[Mapping[str, str]] = None,
                default_chain: Optional[Callable[[], Any]] = None) -> Any:
    """The function's own search (handler ``clb_unbind/credentials.py``): the SDK's chain, then the
    SCF names; any failure of the chain, the SDK's ``OSError('TKE_REGION not exist')`` included, is a
    :class:`CredentialError` naming the variables to set."""
    from .function_settings import handler_module

    found = handler_module("credentials")
    try:
        return found.find(env, default_chain)
    except found.NoCredentials as exc:
        raise CredentialError(str(exc)) from None


@dataclass
class Call:
    service: str
    action: str
    params: Dict[str, Any]
    write: bool


@dataclass
class Cloud:
    """Reads always go out; writes go out only when ``dry_run`` is off, and are recorded either way."""

    region: str
    credential: Any
    endpoint: Optional[str] = None
    dry_run: bool = False
    calls: List[Call] = field(default_factory=list)
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    _clients: Dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, region: str, dry_run: bool = False, env: Optional[Mapping[str, str]] = None,
                 default_chain: Optional[Callable[[], Any]] = None) -> "Cloud":
        env = os.environ if env is None else env
        endpoint = (env.get("CLB_UNBIND_ENDPOINT") or "").strip() or None
        return cls(region, credentials(env, default_chain), endpoint, dry_run)

    @property
    def writes(self) -> List[Call]:
        return [c for c in self.calls if c.write]

    def secrets(self) -> Tuple[str, ...]:
        """The credential's values: what no output of the tool may show."""
        c = self.credential
        return tuple(v for v in (getattr(c, "secret_id", None), getattr(c, "secret_key", None), getattr(c, "token", None)) if v)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile

            module, cls_name, _, regional = SERVICES[service]
            http = HttpProfile()
            http.reqTimeout = 30
            if self.endpoint:
                url = urlparse(self.endpoint)
                http.scheme = url.scheme or "http"
                http.endpoint = url.netloc or url.path
            client_cls = getattr(importlib.import_module(module), cls_name)
            self._clients[service] = client_cls(self.credential, self.region if regional else "", ClientProfile(httpProfile=http))
        return self._clients[service]

    def read(self, service: str, action: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """A read, retried while the API says it is throttled (each action allows about 20 calls a
        second); writes are never retried, so none can be applied twice."""
        self.calls.append(Call(service, action, params, False))
        for attempt in range(READ_RETRIES):
            try:
                return self._send(service, action, params)
            except ApiFailure as exc:
                if not exc.code.startswith("RequestLimitExceeded") or attempt == READ_RETRIES - 1:
                    raise
                self.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")

    def write(self, service: str, action: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Send a write; under ``dry_run`` only record it and answer ``{}``."""
        self.calls.append(Call(service, action, params, True))
        if self.dry_run:
            return {}
        return self._send(service, action, params)

    def _send(self, service: str, action: str, params: Dict[str, Any]) -> Dict[str, Any]:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        models = importlib.import_module(SERVICES[service][2])
        request = getattr(models, f"{action}Request")()
        request._deserialize(params)
        try:
            response = getattr(self.client(service), action)(request)
        except TencentCloudSDKException as exc:
            from .function_settings import handler_module

            scrub = handler_module("scrub").scrub
            secrets = self.secrets()
            raise ApiFailure(f"{service}:{action}", scrub(str(exc.get_code() or "ClientError"), secrets),
                             scrub(str(exc.get_message() or ""), secrets), scrub(exc.get_request_id() or "", secrets)) from None
        return json.loads(response.to_json_string())

    def read_or_none(self, service: str, action: str, params: Dict[str, Any], *missing: str) -> Optional[Dict[str, Any]]:
        """A read whose "does not exist" answers (codes starting with one of ``missing``) mean None."""
        try:
            return self.read(service, action, params)
        except ApiFailure as exc:
            if exc.code.startswith(missing):
                return None
            raise
