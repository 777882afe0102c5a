"""AWS Routing: Route 53 zone, per-region health checks and records, policies, DNSSEC, query logs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from constructs_lib.aws import DataStore, DataStoreProps, Endpoint, EndpointProps, Routing, RoutingProps
from constructs_lib.aws.routing import continent_of
from constructs_lib.core.iam_audit import audit_stack
from constructs_lib.core.schema import validate_stack

from .conftest import PRIMARY_REGION, REPLICA_REGION


def build_routing(build, policy: str = "latency", **extra: Any) -> tuple[Any, dict[str, Any]]:
    h: dict[str, Any] = {}

    def body(stack, replica):
        from constructs_lib.core.providers import declare_provider

        h["east"] = declare_provider(stack, "aws", alias="us_east_1", region="us-east-1")
        store = DataStore(stack, "Data", DataStoreProps(name="ml-data", access_logging=False,
                                                        replication={"region": REPLICA_REGION}),
                          replica_provider=replica)
        h["endpoints"] = [
            Endpoint(stack, "P", EndpointProps(name="churn", region=PRIMARY_REGION), capture_store=store),
            Endpoint(stack, "R", EndpointProps(name="churn", region=REPLICA_REGION), capture_store=store,
                     provider=replica),
        ]
        h["routing"] = Routing(stack, "Routing",
                               RoutingProps(name="churn", domain="ml.example.com", policy=policy, **extra),
                               endpoints=h["endpoints"], us_east_1=h["east"])

    return build(body), h


@pytest.fixture
def latency(build):
    return build_routing(build)


def test_schema_valid_and_least_privilege(latency) -> None:
    built, _ = latency
    assert validate_stack(built.doc, stack="aws") == []
    assert audit_stack(built.doc) == []


def test_every_endpoint_has_a_health_checked_record(latency) -> None:
    built, h = latency
    routing = h["routing"]
    assert sorted(routing.records) == sorted(routing.health_checks) == sorted([PRIMARY_REGION, REPLICA_REGION])
    for endpoint in h["endpoints"]:
        region = endpoint.region
        check = built.by_path("aws_route53_health_check", f"aws/Routing/{region}/HealthCheck")
        assert check["type"] == "CLOUDWATCH_METRIC"
        assert (check["cloudwatch_alarm_name"], check["cloudwatch_alarm_region"]) == (endpoint.health_alarm_name, region)
        record = built.by_path("aws_route53_record", f"aws/Routing/{region}/Record")
        assert record["name"] == "churn.ml.example.com" and record["type"] == "CNAME"
        assert record["records"] == [f"runtime.sagemaker.{region}.amazonaws.com"]
        assert record["set_identifier"] == region
        assert record["health_check_id"] == built.ref(routing.health_checks[region], "id")
        assert record["latency_routing_policy"] == {"region": region}
        assert record["zone_id"] == built.ref(routing.zone, "zone_id")


def test_failover_primary_then_secondary(build) -> None:
    built, _ = build_routing(build, "failover")
    assert built.by_path("aws_route53_record", f"aws/Routing/{PRIMARY_REGION}/Record")["failover_routing_policy"] == {"type": "PRIMARY"}
    assert built.by_path("aws_route53_record", f"aws/Routing/{REPLICA_REGION}/Record")["failover_routing_policy"] == {"type": "SECONDARY"}


def test_geo_default_covers_every_continent_once(build) -> None:
    # Both regions are in Europe: the primary answers every continent and the default record;
    # the second region answers nothing (no record) until routing.geo gives it codes.
    built, h = build_routing(build, "geo")
    routing = h["routing"]
    assert routing.geo == {PRIMARY_REGION: ["AF", "AN", "AS", "EU", "NA", "OC", "SA", "*"], REPLICA_REGION: []}
    records = built.resources("aws_route53_record").values()
    locations = [r["geolocation_routing_policy"] for r in records]
    assert sorted(loc.get("continent", "") for loc in locations if "continent" in loc) == sorted(
        ["AF", "AN", "AS", "EU", "NA", "OC", "SA"])
    assert [loc for loc in locations if "country" in loc] == [{"country": "*"}]
    assert sorted(routing.records) == [PRIMARY_REGION]
    assert routing.default_record is not None
    assert built.by_path("aws_route53_record", f"aws/Routing/{PRIMARY_REGION}/Record-EU")["set_identifier"] == f"{PRIMARY_REGION}-EU"


def test_geo_override_gives_a_region_its_codes(build) -> None:
    built, h = build_routing(build, "geo", geo={REPLICA_REGION: ["DE", "AT", "CH"]})
    assert h["routing"].geo[REPLICA_REGION] == ["DE", "AT", "CH"]
    de = built.by_path("aws_route53_record", f"aws/Routing/{REPLICA_REGION}/Record-DE")
    assert de["geolocation_routing_policy"] == {"country": "DE"}
    assert de["records"] == [f"runtime.sagemaker.{REPLICA_REGION}.amazonaws.com"]
    default = built.by_path("aws_route53_record", f"aws/Routing/{PRIMARY_REGION}/DefaultRecord")
    assert default["geolocation_routing_policy"] == {"country": "*"}
    us_ca = build_routing(build, "geo", geo={REPLICA_REGION: ["US-CA"]})[0]
    assert us_ca.by_path("aws_route53_record", f"aws/Routing/{REPLICA_REGION}/Record-US-CA")[
        "geolocation_routing_policy"] == {"country": "US", "subdivision": "CA"}
    assert continent_of("us-west-2") == "NA" and continent_of("ap-southeast-2") == "OC"
    assert continent_of("me-central-1") == "AS"  # Route 53 has no Middle East continent


def test_failover_chain_over_three_regions(build) -> None:
    def body(stack, replica):
        from constructs_lib.core.providers import declare_provider

        third = declare_provider(stack, "aws", alias="us_east_1", region="us-east-1")
        store = DataStore(stack, "Data", DataStoreProps(name="ml-data", access_logging=False))
        eps = [
            Endpoint(stack, "A", EndpointProps(name="churn", region=PRIMARY_REGION), capture_store=store),
            Endpoint(stack, "B", EndpointProps(name="churn", region=REPLICA_REGION, placeholder_image="r/i:1"),
                     provider=replica),
            Endpoint(stack, "C", EndpointProps(name="churn", region="us-east-1", placeholder_image="r/i:1"),
                     provider=third),
        ]
        Routing(stack, "Routing", RoutingProps(name="churn", domain="ml.example.com", policy="failover"),
                endpoints=eps, us_east_1=third)

    built = build(body)
    first = built.by_path("aws_route53_record", f"aws/Routing/{PRIMARY_REGION}/Record")
    assert (first["name"], first["failover_routing_policy"]) == ("churn.ml.example.com", {"type": "PRIMARY"})
    alias = built.by_path("aws_route53_record", f"aws/Routing/{PRIMARY_REGION}/FailoverNext")
    assert (alias["name"], alias["failover_routing_policy"]) == ("churn.ml.example.com", {"type": "SECONDARY"})
    assert alias["alias"]["name"] == "failover1.churn.ml.example.com" and alias["alias"]["evaluate_target_health"] is True
    second = built.by_path("aws_route53_record", f"aws/Routing/{REPLICA_REGION}/Record")
    third = built.by_path("aws_route53_record", "aws/Routing/us-east-1/Record")
    assert (second["name"], second["failover_routing_policy"]) == ("failover1.churn.ml.example.com", {"type": "PRIMARY"})
    assert (third["name"], third["failover_routing_policy"]) == ("failover1.churn.ml.example.com", {"type": "SECONDARY"})
    assert validate_stack(built.doc, stack="aws") == []


def test_query_logs_and_dnssec_in_us_east_1(latency) -> None:
    built, h = latency
    group = built.by_path("aws_cloudwatch_log_group", "aws/Routing/QueryLogGroup")
    assert group["name"] == "/aws/route53/ml.example.com" and group["provider"] == "aws.us_east_1"
    assert group["kms_key_id"].startswith("${aws_kms_key.") and group["retention_in_days"] == 365
    policy = json.loads(built.by_path("aws_cloudwatch_log_resource_policy", "aws/Routing/QueryLogPolicy")["policy_document"])
    assert policy["Statement"][0]["Principal"] == {"Service": "route53.amazonaws.com"}
    query = built.by_path("aws_route53_query_log", "aws/Routing/QueryLog")
    assert query["cloudwatch_log_group_arn"].endswith(".arn}")
    key = built.by_path("aws_kms_key", "aws/Routing/DnssecKey")
    assert (key["customer_master_key_spec"], key["key_usage"], key["provider"]) == ("ECC_NIST_P256", "SIGN_VERIFY", "aws.us_east_1")
    assert built.by_path("aws_route53_hosted_zone_dnssec", "aws/Routing/Dnssec")["signing_status"] == "SIGNING"


def test_recovery_from_health_check_interval(build) -> None:
    _, h = build_routing(build, health_check_interval_seconds=10)
    assert h["routing"].recovery.rto_minutes == 5 and h["routing"].recovery.rpo_minutes is None
    assert h["routing"].recovery.replica_region == REPLICA_REGION


def test_errors(build) -> None:
    with pytest.raises(ValidationError, match="domain"):
        RoutingProps(name="churn", domain="not a domain")
    with pytest.raises(ValidationError, match="at least one location code"):
        RoutingProps(name="churn", domain="ml.example.com", geo={"eu-west-1": []})
    with pytest.raises(ValueError, match="not a Route 53 location"):
        build_routing(build, "geo", geo={REPLICA_REGION: ["XX"]})
    with pytest.raises(ValueError, match="already answered by"):
        build_routing(build, "geo", geo={PRIMARY_REGION: ["EU"], REPLICA_REGION: ["EU"]})
    with pytest.raises(ValueError, match="at least one endpoint"):
        build(lambda stack, replica: Routing(stack, "R", RoutingProps(name="churn", domain="ml.example.com"), endpoints=[]))
