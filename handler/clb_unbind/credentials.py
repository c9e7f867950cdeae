"""Where every tool of the project finds credentials: one order, one failure message.

1. The SDK's own ``DefaultCredentialProvider`` chain (SDK ``tencentcloud/common/credential.py``):
   ``TENCENTCLOUD_SECRET_ID``/``TENCENTCLOUD_SECRET_KEY``, the ``~/.tencentcloud/credentials`` profile,
   a CVM role, a TKE OIDC role.
2. The names SCF gives a function (Tencent doc 583/32748, built-in environment variables):
   ``TENCENTCLOUD_SECRETID``/``TENCENTCLOUD_SECRETKEY``/``TENCENTCLOUD_SESSIONTOKEN``.

The chain fails in more ways than its own exception: outside TKE its last provider raises
``OSError("TKE_REGION not exist")``. Any failure of the chain moves on to the SCF names, and with
those unset the caller gets :class:`NoCredentials`, whose text names the variables to set.

The function itself reads only the SCF names (config.py); the operator tools and the function's
command line use :func:`find`.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Mapping, Optional

WHAT_TO_SET = ("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (or a ~/.tencentcloud/credentials profile, "
               "or TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and TENCENTCLOUD_SESSIONTOKEN as SCF names them)")


class NoCredentials(Exception):
    """Neither the SDK's chain nor the SCF names gave a secret id and key."""

    def __init__(self) -> None:
        super().__init__(f"no credentials: {WHAT_TO_SET}")


def _from_chain(default_chain: Optional[Callable[[], Any]]) -> Any:
    from tencentcloud.common.credential import DefaultCredentialProvider

    chain = default_chain or DefaultCredentialProvider().get_credentials
    try:
        found = chain()
    except Exception:  # noqa: BLE001 - the chain raises SDK errors, OSError (TKE_REGION) and more: all mean "not here"
        return None
    try:
        return found if found is not None and found.secret_id and found.secret_key else None
    except Exception:  # noqa: BLE001 - a role credential refreshes on attribute access and may fail there
        return None


def find(env: Optional[Mapping[str, str]] = None, default_chain: Optional[Callable[[], Any]] = None) -> Any:
    """An SDK ``Credential``: the SDK's chain first, then the SCF names; raises :class:`NoCredentials`."""
    from tencentcloud.common.credential import Credential

    env = os.environ if env is None else env
    found = _from_chain(default_chain)
    if found is not None:
        return found
    sid, key = env.get("TENCENTCLOUD_SECRETID"), env.get("TENCENTCLOUD_SECRETKEY")
    if sid and key:
        return Credential(sid, key, env.get("TENCENTCLOUD_SESSIONTOKEN") or None)
    raise NoCredentials()


def as_scf_names(credential: Any) -> dict:
    """The credential under the names the function reads, for a process that runs the handler."""
    out = {"TENCENTCLOUD_SECRETID": credential.secret_id, "TENCENTCLOUD_SECRETKEY": credential.secret_key}
    token = getattr(credential, "token", None)
    if token:
        out["TENCENTCLOUD_SESSIONTOKEN"] = token
    return out
