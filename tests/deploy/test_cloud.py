"""Credentials and the read/write line of the operator tool's cloud access."""
from __future__ import annotations

import time

import pytest

from deploy.cloud import Cloud, CredentialError, credentials


def _raise() -> None:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

    raise TencentCloudSDKException("ClientSideError", "no valid credentail.")


def test_the_sdk_chain_comes_first() -> None:
    from tencentcloud.common.credential import Credential

    found = credentials({"TENCENTCLOUD_SECRETID": "scf-id", "TENCENTCLOUD_SECRETKEY": "scf-key"},
                        default_chain=lambda: Credential("chain-id", "chain-key"))
    assert (found.secret_id, found.secret_key) == ("chain-id", "chain-key")


def test_then_the_scf_names_with_their_session_token() -> None:
    found = credentials({"TENCENTCLOUD_SECRETID": "scf-id", "TENCENTCLOUD_SECRETKEY": "scf-key",
                         "TENCENTCLOUD_SESSIONTOKEN": "tok"}, default_chain=_raise)
    assert (found.secret_id, found.secret_key, found.token) == ("scf-id", "scf-key", "tok")


def test_no_credentials_anywhere_is_a_credential_error() -> None:
    with pytest.raises(CredentialError):
        credentials({}, default_chain=_raise)


def test_dry_run_records_writes_and_sends_none() -> None:
    from tencentcloud.common.credential import Credential

    cloud = Cloud("ap-guangzhou", Credential("id", "key"), endpoint="http://127.0.0.1:9", dry_run=True)
    assert cloud.write("scf", "CreateFunction", {"FunctionName": "f"}) == {}
    assert [(c.action, c.write) for c in cloud.calls] == [("CreateFunction", True)]


def test_every_call_goes_to_clb_unbind_endpoint(emulator) -> None:
    sid, key, _ = emulator.credentials
    cloud = Cloud.from_env("ap-guangzhou", env={"CLB_UNBIND_ENDPOINT": emulator.endpoint, "TENCENTCLOUD_SECRETID": sid,
                                                "TENCENTCLOUD_SECRETKEY": key}, default_chain=_raise)
    assert cloud.read_or_none("scf", "GetFunction", {"FunctionName": "absent"}, "ResourceNotFound") is None
    assert cloud.read("cam", "ListPolicies", {"Keyword": "x"})["TotalNum"] == 0
    assert [(c.service, c.action, c.region) for c in emulator.calls] == [("scf", "GetFunction", "ap-guangzhou"),
                                                                         ("cam", "ListPolicies", "")]


def test_a_throttled_read_is_retried_and_a_throttled_write_is_not(make_emulator) -> None:
    from tencentcloud.common.credential import Credential

    from deploy.cloud import ApiFailure

    emu = make_emulator(rate_limit_per_second=1)
    sid, key, _ = emu.credentials
    pauses = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        time.sleep(seconds)

    cloud = Cloud("ap-guangzhou", Credential(sid, key), emu.endpoint, sleep=sleep)
    for _ in range(3):
        cloud.read("cam", "ListPolicies", {"Keyword": "x"})
    assert pauses and emu.count("ListPolicies") > 3
    cloud.write("cam", "CreatePolicy", {"PolicyName": "p1", "PolicyDocument": '{"version":"2.0","statement":[{"effect":"allow","action":["a:b"]}]}'})
    with pytest.raises(ApiFailure, match="RequestLimitExceeded"):
        cloud.write("cam", "CreatePolicy", {"PolicyName": "p2", "PolicyDocument": '{"version":"2.0","statement":[{"effect":"allow","action":["a:b"]}]}'})
