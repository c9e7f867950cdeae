"""Limits and malformed input the emulator refuses as the real API does (issue 12)."""
from __future__ import annotations

from .conftest import Cloud


def test_ids_are_matched_whole(cloud: Cloud) -> None:
    err = cloud.error("cvm", "DescribeInstances", {"InstanceIds": ["ins-leave001\n"]})
    assert err.code == "InvalidInstanceId.Malformed"
    err = cloud.error("cvm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ins-leave001\n"]}]})
    assert err.code == "InvalidInstanceId.Malformed"
    err = cloud.error("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": ["ein-edge0001\n"]}]})
    assert err.code == "InvalidParameterValue.InvalidInstanceID"


def test_ecm_describe_instances_takes_five_values_per_filter(cloud: Cloud) -> None:
    five = [f"ein-{i:08d}" for i in range(5)]
    assert cloud.call("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": five}]}).TotalCount == 0
    err = cloud.error("ecm", "DescribeInstances", {"Filters": [{"Name": "instance-id", "Values": five + ["ein-00000005"]}]})
    assert err.code == "InvalidParameterValue.FilterLimitExceeded"
