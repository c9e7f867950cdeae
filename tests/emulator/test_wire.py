"""Wire fidelity: TC3 signature checks, reply shape, strict parameters, versions, regions, rate limit."""
from __future__ import annotations

import json
import time

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st
from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.cvm.v20170312 import cvm_client

from emulator import Emulator, Knobs
from emulator.signing import matches, parse_authorization, signature

from .conftest import ESTATE, Cloud

TEMP = ("AKIDEMULATORTEMP0000000000", "emulator-temp-secret-key-0000", "emulator-session-token-0000")


def test_signed_request_is_accepted(cloud: Cloud) -> None:
    resp = cloud.call("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001"]})
    assert resp.TotalCount == 1
    assert resp.InstanceSet[0].PrivateIpAddresses == ["10.0.0.4", "10.0.0.14"]
    assert resp.InstanceSet[0].VirtualPrivateCloud.VpcId == "vpc-aaaa1111"


def test_wrong_key_is_signature_failure(cloud: Cloud) -> None:
    sid, _, _ = cloud.emu.credentials
    err = cloud.error("cvm", "DescribeInstances", cred=(sid, "not-the-key", None))
    assert err.code == "AuthFailure.SignatureFailure"
    assert err.requestId  # errors carry a RequestId too


def test_unknown_secret_id(cloud: Cloud) -> None:
    err = cloud.error("cvm", "DescribeInstances", cred=("AKIDNOBODY0000000000000000", "x", None))
    assert err.code == "AuthFailure.SecretIdNotFound"


def test_clock_skew_is_signature_expire(cloud: Cloud) -> None:
    cloud.emu._wall = lambda: time.time() + 301  # the server's clock runs ahead of the SDK's
    assert cloud.error("cvm", "DescribeInstances").code == "AuthFailure.SignatureExpire"
    cloud.emu._wall = lambda: time.time() + 200
    assert cloud.call("cvm", "DescribeInstances").TotalCount == 5


def test_session_token_is_checked(cloud: Cloud) -> None:
    assert cloud.call("cvm", "DescribeInstances", cred=TEMP).TotalCount == 5
    assert cloud.error("cvm", "DescribeInstances", cred=(TEMP[0], TEMP[1], "stolen-token")).code == "AuthFailure.TokenFailure"
    assert cloud.error("cvm", "DescribeInstances", cred=(TEMP[0], TEMP[1], None)).code == "AuthFailure.TokenFailure"


def test_reply_content_type_is_exactly_application_json(cloud: Cloud) -> None:
    client = cloud.client("cvm")
    ok = client._call("DescribeInstances", {})  # the SDK's own request builder and transport
    assert ok.status_code == 200 and ok.headers["Content-Type"] == "application/json"
    assert "RequestId" in json.loads(ok.content)["Response"]
    bad = client._call("DescribeInstances", {"Nope": 1})
    assert bad.status_code == 200 and bad.headers["Content-Type"] == "application/json"
    body = json.loads(bad.content)["Response"]
    assert set(body) == {"Error", "RequestId"} and set(body["Error"]) == {"Code", "Message"}
    unsigned = requests.post(cloud.emu.endpoint + "/", data="{}", headers={"Content-Type": "application/json"}, timeout=5)
    assert unsigned.headers["Content-Type"] == "application/json"
    assert unsigned.json()["Response"]["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_unknown_parameter_is_refused(cloud: Cloud) -> None:
    assert cloud.error("cvm", "DescribeInstances", {"InstanceIds": [], "Bogus": 1}, raw=True).code == "UnknownParameter"
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": 8080, "EniIp": "10.0.0.4", "Colour": "red"}]}, raw=True)
    assert err.code == "UnknownParameter" and "Targets.0.Colour" in err.message


def test_wrong_type_names_the_field(cloud: Cloud) -> None:
    err = cloud.error("clb", "BatchDeregisterTargets", {"LoadBalancerId": "lb-aaaa1111", "Targets": [
        {"ListenerId": "lbl-aaaa1111", "Port": "8080", "EniIp": "10.0.0.4"}]}, raw=True)
    assert err.code == "InvalidParameter" and "Targets.0.Port" in err.message
    err = cloud.error("cvm", "DescribeInstances", {"InstanceIds": "ins-leave001"}, raw=True)
    assert err.code == "InvalidParameter" and "InstanceIds" in err.message
    assert cloud.emu.bindings("10.0.0.4")  # nothing was applied


def test_unknown_version_action_product(cloud: Cloud) -> None:
    client = cloud.client("cvm")
    client._apiVersion = "2017-03-13"
    with pytest.raises(TencentCloudSDKException) as info:
        client.call_json("DescribeInstances", {})
    assert info.value.code == "NoSuchVersion"
    assert cloud.error("cvm", "DescribeSomethingElse", {}, raw=True).code == "InvalidAction"
    client = cloud.client("cvm")
    client._service = "cbs"
    with pytest.raises(TencentCloudSDKException) as info:
        client.call_json("DescribeDisks", {})
    assert info.value.code == "NoSuchProduct"


def test_region_is_required_and_checked(cloud: Cloud) -> None:
    assert cloud.error("clb", "DescribeLoadBalancers", region="").code == "MissingParameter"
    assert cloud.error("clb", "DescribeLoadBalancers", region="mars-north-1").code == "UnsupportedRegion"
    assert cloud.call("clb", "DescribeLoadBalancers", region="ap-shanghai").TotalCount == 0
    assert cloud.call("ecm", "DescribeLoadBalancers", region="").TotalCount == 2  # ECM needs no region


def test_rate_limit_21_in_a_second() -> None:
    with Emulator.from_file(ESTATE, knobs=Knobs(rate_limit_per_second=20)) as emu:
        cloud = Cloud(emu)
        client = cloud.client("clb")
        codes = []
        start = time.monotonic()
        for _ in range(21):
            with pytest.raises(TencentCloudSDKException) as info:
                client.call_json("DescribeTaskStatus", {"TaskId": "none"})
            codes.append(info.value.code)
        assert time.monotonic() - start < 1.0, "too slow to exercise the 1 s window"
        assert codes[:20] == ["InvalidParameterValue"] * 20
        assert codes[20] == "RequestLimitExceeded"
        # Another action has its own budget.
        assert cloud.call("clb", "DescribeLoadBalancers").TotalCount == 3
        emu.set_knobs(rate_limit_per_second=0)
        for _ in range(25):
            client.call_json("DescribeLoadBalancers", {})


@settings(max_examples=40, deadline=None)
@given(params=st.dictionaries(st.sampled_from(["InstanceIds", "Offset", "Limit", "Name"]),
                              st.one_of(st.integers(-5, 500), st.text(max_size=20), st.lists(st.text(max_size=12), max_size=3)),
                              max_size=4),
       secret=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=30))
def test_signature_matches_the_sdk_for_any_payload(params: dict, secret: str) -> None:
    """The verifier agrees with the SDK's signer on arbitrary payloads and rejects a changed byte."""
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint="127.0.0.1:9"))
    client = cvm_client.CvmClient(credential.Credential("AKIDX", secret), "ap-guangzhou", profile)
    req = RequestInternal("127.0.0.1:9", "POST", "/", header={})
    client._build_req_inter("DescribeInstances", params, req)
    auth = parse_authorization(req.header["Authorization"])
    headers = {k.lower(): v for k, v in req.header.items()}
    body = req.data.encode("utf-8")
    common = dict(method="POST", uri="/", query="", headers=headers, signed_headers=auth.signed_headers,
                  timestamp=req.header["X-TC-Timestamp"], date=auth.date, service="cvm")
    assert matches(signature(secret, payload=body, **common), auth.signature)
    assert not matches(signature(secret, payload=body + b" ", **common), auth.signature)
