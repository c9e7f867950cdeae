"""The CMQ data-plane endpoint of each region comes from the sourced table in cloud/cmq_regions.py."""
from __future__ import annotations

import re

import pytest

from clb_unbind.cloud import cmq_regions
from clb_unbind.config import Settings, SettingsError


@pytest.mark.parametrize("region, code", [("ap-guangzhou", "gz"), ("ap-shanghai", "sh"), ("ap-beijing", "bj"),
                                          ("ap-hongkong", "hk"), ("ap-chengdu", "cd")])
def test_the_documented_regions_have_their_public_endpoint(region: str, code: str) -> None:
    settings = Settings.from_env({"TENCENTCLOUD_REGION": region})
    assert settings.cmq_base_url == f"https://cmq-{code}.public.tencenttdmq.com"
    assert cmq_regions.REGIONS[region] == (code, "doc")
    assert cmq_regions.private_endpoint(region) == f"http://{code}.mqadapter.cmq.tencentyun.com"


def test_every_row_names_its_source_and_a_well_formed_code() -> None:
    codes = [code for code, _ in cmq_regions.REGIONS.values()]
    assert len(codes) == len(set(codes))
    for region, (code, source) in cmq_regions.REGIONS.items():
        assert source in ("doc", "tcmqcli")
        assert re.fullmatch(r"[a-z]{2,4}-[a-z]+(-[a-z]+)?", region) and re.fullmatch(r"[a-z]{2,8}", code)


def test_a_region_outside_the_table_needs_the_endpoint_set() -> None:
    with pytest.raises(SettingsError, match="CLB_UNBIND_CMQ_ENDPOINT"):
        Settings.from_env({"TENCENTCLOUD_REGION": "ap-hangzhou-ec"}).cmq_base_url  # noqa: B018
    given = Settings.from_env({"TENCENTCLOUD_REGION": "ap-hangzhou-ec",
                               "CLB_UNBIND_CMQ_ENDPOINT": "http://hzec.mqadapter.cmq.tencentyun.com"})
    assert given.cmq_base_url == "http://hzec.mqadapter.cmq.tencentyun.com"
