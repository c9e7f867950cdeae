"""Reply members the emulator does not model, per product and api.json object. api.json requires them
(``output_required``); :func:`emulator.spec.fill` answers them, when a reply lacks them or has them null
where api.json does not allow null, with null where api.json allows it, else the zero value of their
type. Everything else must come from the estate: a missing ``output_required`` member not listed here
is an emulator bug. Zero values, not api.json's examples, so that nothing filled passes for estate data
(a hook without a target reads as one with an empty TargetType, never as one notifying some queue).
"""
from __future__ import annotations

UNMODELLED: dict[str, dict[str, frozenset[str]]] = {
    "as": {
        "AutoScalingGroup": frozenset({"CapacityRebalance", "CreatedTime", "DefaultCooldown", "DesiredCapacity",
            "HealthCheckType", "InstanceAllocationPolicy", "InstanceNameIndexSettings",
            "Ipv6AddressCount", "LaunchConfigurationId", "LaunchConfigurationName",
            "LoadBalancerHealthCheckGracePeriod", "MaxSize", "MinSize", "MultiZoneSubnetPolicy",
            "ProjectId", "RetryPolicy", "ServiceSettings", "SpotMixedAllocationPolicy", "SubnetIdSet", "Tags",
            "TerminationPolicySet", "VpcId", "ZoneSet"}),
        # null in the emulator's reply when a hook has none; api.json allows no null there
        "LifecycleHook": frozenset({"LifecycleCommand", "NotificationTarget"}),
    },
    "cam": {
        "GetPolicyResponse": frozenset({"PresetAlias"}),
        "RoleInfo": frozenset({"DeletionTaskId"}),
        "StrategyInfo": frozenset({"AttachEntityBoundaryCount", "AttachEntityCount", "Deactived", "DeactivedDetail",
            "IsAttached", "IsServiceLinkedPolicy", "ServiceType"}),
    },
    "clb": {
        # target groups: an association of a layer-4 listener has no rule (all three nullable: null)
        "AssociationItem": frozenset({"Domain", "LocationId", "Url"}),
        "TargetGroupInfo": frozenset({"HealthCheck", "IpVersion", "Protocol", "ScheduleAlgorithm"}),
        "Backend": frozenset({"EniId"}),
        "ListenerBackend": frozenset({"Rules", "Targets"}),
        "ListenerItem": frozenset({"EndPort", "Rules", "Targets"}),
        # DescribeListeners (services/clb_listeners.py) models the target type and the reschedule settings only
        "Listener": frozenset({"AttrFlags", "Certificate", "CreateTime", "HealthCheck", "IdleConnectTimeout",
            "KeepaliveEnable", "MaxConn", "MaxCps", "Rules", "Scheduler", "SessionExpireTime", "SessionType",
            "SniSwitch", "TargetGroup", "TargetGroupList", "Toa"}),
        "LoadBalancer": frozenset({"AddressIPv6", "AnycastZone", "AttributeFlags", "BackupZoneSet", "ChargeType",
            "ClusterIds", "ClusterTag", "ConfigId", "Domain", "Egress", "ExclusiveCluster", "ExpireTime",
            "ExtraInfo", "HealthLogSetId", "HealthLogTopicId", "IPv6Mode", "IsBlock", "IsBlockTime", "IsDDos",
            "IsolatedTime", "LoadBalancerPassToTarget", "LocalBgp", "Log", "LogSetId", "LogTopicId", "MasterZone",
            "MixIpTarget", "NetworkAttributes", "NfvInfo", "OpenBgp", "PrepaidAttributes", "SecureGroups", "SlaType",
            "SnatIps", "SnatPro", "Tags", "TargetRegionInfo", "VipIsp", "Zones"}),
        "RuleTargets": frozenset({"FunctionTargets"}),
    },
    "cls": {
        "AlarmInfo": frozenset({"AlarmLevel", "MessageTemplate", "AlarmNoticeIds", "Analysis", "CallBack", "Classifications", "GroupTriggerCondition", "GroupTriggerStatus", "MonitorObjectType", "Tags"}),
        "AlarmNotice": frozenset({"Tags", "WebCallbacks"}),
        "AlarmTargetInfo": frozenset({"SyntaxRule", "LogsetId", "LogsetName", "TopicName"}),
        "DashboardInfo": frozenset({"AssumerName", "AssumerUin", "DashboardTopicInfos", "RoleName"}),
        "DescribeIndexResponse": frozenset({"ModifyTime", "Rule", "CoverageField", "IncludeInternalFields", "MetadataFlag"}),
        "LogsetInfo": frozenset({"AssumerName", "AssumerUin", "MetricTopicCount", "RoleName"}),
        "NoticeReceiver": frozenset({"EndTime", "Index", "StartTime"}),
        "RuleInfo": frozenset({"DynamicIndex", "FullText", "Tag"}),
        "SearchLogResponse": frozenset({"AnalysisResults", "ColNames", "Results", "Topics"}),
        "TopicInfo": frozenset({"AssumerName", "AssumerUin", "AutoSplit", "HotPeriod", "IsWebTracking", "KeyId", "MaxSplitPartitions", "RoleName", "SubAssumerName", "Tags"}),
        "ValueInfo": frozenset({"Alias"}),
    },
    "cvm": {
        "Instance": frozenset({"CPU", "CamRoleName", "DataDisks", "DedicatedClusterId", "DefaultLoginPort",
            "DefaultLoginUser", "DisableApiTermination", "DisasterRecoverGroupId", "DisasterRecoverGroupIds",
            "ExpiredTime", "HostName", "HpcClusterId", "IPv6Addresses", "ImageId", "InstanceChargeType",
            "InstanceType", "InternetAccessible", "IsolatedSource", "LatestOperation", "LatestOperationErrorMsg",
            "LatestOperationRequestId", "LatestOperationState", "LicenseType", "LoginSettings", "Memory", "OsName",
            "PublicIpAddresses", "RdmaIpAddresses", "RenewFlag", "SecurityGroupIds", "StopChargingMode",
            "SystemDisk", "Tags", "Uuid"}),
    },
    "ecm": {
        "Instance": frozenset({"DataDiskSize", "DataDisks", "ExpireState", "ExpireTime", "ISP", "Image",
            "InstanceTypeConfig", "IsolatedTime", "LatestOperation", "LatestOperationState", "NewFlag", "PayMode",
            "PhysicalPosition", "RenewFlag", "SecurityGroupIds", "SimpleModule", "SystemDisk", "SystemDiskSize",
            "TagSet", "UUID"}),
        "Position": frozenset({"Area", "City", "Country", "Ipv6Supported", "Province", "ZoneInfo"}),
        "VirtualPrivateCloud": frozenset({"Ipv6AddressCount"}),
    },
    "scf": {
        "GetFunctionResponse": frozenset({"AccessInfo", "AvailableStatus", "CfsConfig", "DeadLetterConfig",
            "EipConfig", "ImageConfig", "InstanceConcurrencyConfig", "IntranetConfig", "OnsEnable", "ProtocolParams",
            "ProtocolType", "PublicNetConfig", "VpcConfig"}),
    },
    "tdmq": {
        # null in the emulator's reply for the other policy; api.json allows no null there
        "CmqDeadLetterPolicy": frozenset({"MaxReceiveCount", "MaxTimeToLive"}),
        "CmqQueue": frozenset({"CreateTime", "CreateUin", "LastModifyTime", "MaxMsgBacklogSize", "MaxUnackedMsgNum",
            "NamespaceName", "RetentionSizeInMB", "TenantId", "TransactionPolicy"}),
    },
}

CONDITIONAL: dict[str, dict[str, frozenset[str]]] = {
    # api.json marks it output_required, and its own document says "策略id，入参是PolicyName时，才会返回"
    # (returned only when the request named the policy by PolicyName): the emulator follows the document.
    "cam": {"UpdatePolicyResponse": frozenset({"PolicyId"})},
}
"""Members api.json marks ``output_required`` whose own ``document`` says they come back only sometimes:
not required of the emulator's replies."""
