"""A raw CMQ data-plane client for the tests: form-encoded POSTs signed with API 2.0 (doc 406/5906),
written from the docs rather than from the emulator, so that a signing mistake on either side shows."""
from __future__ import annotations

import base64
import hashlib
import hmac
import random
import time
from typing import Any
from urllib.parse import urlencode

import requests


def signature(key: str, host: str, path: str, params: dict[str, str], method: str = "HmacSHA256") -> str:
    text = "POST" + host + path + "?" + "&".join(f"{k.replace('_', '.')}={params[k]}" for k in sorted(params))
    digest = hashlib.sha256 if method == "HmacSHA256" else hashlib.sha1
    return base64.b64encode(hmac.new(key.encode(), text.encode(), digest).digest()).decode()


class CmqWire:
    def __init__(self, host_port: str, secret_id: str, secret_key: str, token: str | None = None,
                 path: str = "/", method: str = "HmacSHA256") -> None:
        self.host_port, self.secret_id, self.secret_key, self.token = host_port, secret_id, secret_key, token
        self.path, self.method = path, method

    def params(self, action: str, **fields: Any) -> dict[str, str]:
        params = {"Action": action, "SecretId": self.secret_id, "Timestamp": str(int(time.time())),
                  "Nonce": str(random.randint(1, 2**31)), "SignatureMethod": self.method,
                  **{k.replace("__", "."): str(v) for k, v in fields.items()}}
        if self.token:
            params["Token"] = self.token
        return params

    def post(self, params: dict[str, str], *, sign: bool = True, timeout: float = 40) -> dict[str, Any]:
        if sign:
            params = dict(params, Signature=signature(self.secret_key, self.host_port, self.path, params, self.method))
        resp = requests.post(f"http://{self.host_port}{self.path}", data=urlencode(params), timeout=timeout,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
        return resp.json()

    def __call__(self, action: str, **fields: Any) -> dict[str, Any]:
        """``wire("BatchDeleteMessage", queueName="q", receiptHandle__0="h")`` (``__`` stands for ``.``)."""
        return self.post(self.params(action, **fields))
