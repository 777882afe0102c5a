"""Global routing: one DNS name in front of the same endpoint in every region, with health checks.

What ``Routing`` builds for a list of regional :class:`~.serving.Endpoint` s of one logical
endpoint, with every default:

* a public Route 53 hosted zone for ``props.domain`` (unless ``zone`` passes one created by another
  ``Routing`` of the same platform), delegated by the parent zone's NS records (outside Terraform);
* with ``query_logging`` (default): DNS query logs to ``/aws/route53/<domain>`` in **us-east-1**
  (Route 53 only logs there), KMS-encrypted with a key whose policy lets only CloudWatch Logs of
  us-east-1 use it for that group, kept ``log_retention_days`` (365) days, plus the CloudWatch Logs
  resource policy that lets Route 53 of this account write to ``/aws/route53/*``;
* with ``dnssec`` (default): DNSSEC signing with a key-signing key backed by an asymmetric
  ``ECC_NIST_P256`` KMS key in us-east-1 (the only place Route 53 takes it from), usable only by
  Route 53's DNSSEC service of this account. Add the DS record to the parent zone to complete the
  chain of trust;
* per endpoint (region): a Route 53 health check of type ``CLOUDWATCH_METRIC`` on the endpoint's
  health alarm (SageMaker endpoints have no unauthenticated health URL), unknown state keeping the
  last known status, and a CNAME ``<props.name>.<domain>`` -> ``runtime.sagemaker.<region>.amazonaws.com``
  (TTL 60) with ``set_identifier = <region>`` and the health check, under the routing policy:

  - ``latency`` (default): ``latency_routing_policy { region }``: callers get the nearest healthy
    region;
  - ``failover``: the first endpoint PRIMARY, the second SECONDARY. With more regions the
    secondary is an alias (``evaluate_target_health``) to a failover pair one level down,
    ``failover<i>.<props.name>.<domain>``: region 2 PRIMARY, the next region SECONDARY, and so on
    (an ordered chain: callers get the first healthy region in ``regions`` order);
  - ``geo``: one record per location code of :func:`~constructs_lib.core.regions.geo_mapping`
    (``geolocation_routing_policy { continent }``, ``{ country }``, ``{ country, subdivision }``,
    and ``{ country = "*" }``, Route 53's default for callers nowhere else): every Route 53
    continent goes to the first region on it, else to the region of the nearest continent
    (Sydney and Melbourne are Oceania, the Middle East is Asia), the default to the primary;
    ``props.geo`` (the spec's ``routing.geo``) gives regions exact codes (countries win over
    continents). A region on a continent an earlier region already answers gets no record unless
    ``geo`` gives it codes (e.g. ``ca-central-1: [CA]``).

How clients call: the SageMaker runtime requires SigV4 requests to the *regional* runtime host, so a
client resolves ``<name>.<domain>`` (the CNAME tells which region is chosen for it), and invokes the
endpoint through that region's runtime (``boto3.client("sagemaker-runtime", region_name=...)``,
``EndpointName`` is the same in every region). A failed-over client re-resolves within the TTL.

Recovery (:attr:`Routing.recovery`): RPO ``None`` (no data), RTO = health alarm detection + health
check interval x failure threshold + TTL (see :func:`~.serving.failover_rto_minutes`).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ..core import engine
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError, ConstructTypeError
from ..core.props import KeyProps
from ..core.recovery import Recovery
from ..core.regions import continent_of as regions_continent
from ..core.regions import ROUTE53_CONTINENTS, geo_code_problem, geo_mapping, route53_continent
from ..core.naming import short_hash
from ..core.resource import Resource
from ..core.run_props import RoutingProps as CoreRoutingProps
from . import _iam
from ._iam import policy_document, ref
from .keys import Key
from .serving import DNS_TTL_SECONDS, Endpoint, failover_rto_minutes

__all__ = ["Routing", "RoutingProps", "continent_of"]

def continent_of(region: str) -> str:
    """The Route 53 continent code of an AWS region (``eu-west-1`` -> ``EU``, ``ap-southeast-2`` ->
    ``OC``; the Middle East is ``AS``): :mod:`constructs_lib.core.regions`."""
    return route53_continent(regions_continent("aws", region))


class RoutingProps(CoreRoutingProps):
    """Core :class:`~constructs_lib.core.run_props.RoutingProps` plus AWS-only fields.

    ``name`` is the record label: the endpoint answers at ``<name>.<domain>``.
    """

    dnssec: bool = Field(default=True, description="Sign the zone with DNSSEC (KMS key in us-east-1). Defaults to True.")
    query_logging: bool = Field(
        default=True, description="Log DNS queries to CloudWatch Logs in us-east-1. Defaults to True."
    )
    log_retention_days: int = Field(
        default=365, ge=1, le=3653, description="Retention of the query log group. Defaults to 365 days."
    )


class Routing(MlopsConstruct):
    """Route 53 health-checked routing (latency, failover or geo) over regional SageMaker endpoints.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`RoutingProps` (or the core ``RoutingProps``, which gets the AWS defaults).
        endpoints: the regional :class:`~.serving.Endpoint` s of one logical endpoint, primary first.
        provider: the ``aws`` provider for Route 53 (a global service). Defaults to the stack's default.
        us_east_1: the ``aws`` provider of us-east-1 for query logs and the DNSSEC key. Defaults to
            None: ``provider`` (or the default provider) is in us-east-1.
        zone: an ``aws_route53_zone`` to add records to. Defaults to None: a new zone (with query
            logging and DNSSEC).

    Attributes:
        zone: the ``aws_route53_zone`` (created or given); ``zone_id`` its id token.
        domain: ``props.domain``; ``fqdn``: ``<name>.<domain>``.
        records: region -> ``aws_route53_record``; ``default_record`` the geo default or ``None``.
        health_checks: region -> ``aws_route53_health_check``.
        recovery: :class:`~constructs_lib.core.recovery.Recovery` of the failover.
        hostnames: ``{props.name: fqdn}`` (the endpoint this routing serves -> its DNS name).
        name_servers: the zone's name servers token (delegate ``props.domain`` to them).
    """

    props_type = CoreRoutingProps
    props: CoreRoutingProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: CoreRoutingProps,
        *,
        endpoints: list[Endpoint],
        provider: engine.TerraformProvider | None = None,
        us_east_1: engine.TerraformProvider | None = None,
        zone: Resource | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if not endpoints:
            raise ConstructError(self.node.path, "routing needs at least one endpoint")
        if any(not isinstance(e, Endpoint) for e in endpoints):
            raise ConstructTypeError(self.node.path, "endpoints must be constructs_lib.aws.Endpoint objects")
        regions = [e.region for e in endpoints]
        if len(set(regions)) != len(regions):
            raise ConstructError(self.node.path, f"one endpoint per region, got regions {regions}")
        names = {e.props.name for e in endpoints}
        if len(names) != 1:
            raise ConstructError(
                self.node.path,
                f"routing serves one logical endpoint in several regions; got names {sorted(names)}"
            )
        geo: dict[str, list[str]] = {}
        if props.policy == "geo":
            geo = self._geo(props, regions)

        self.domain: str = props.domain
        self.fqdn: str = f"{props.name}.{props.domain}"
        if zone is None:
            zone = self._zone(props, provider, us_east_1)
        self.zone: Resource = zone
        self.zone_id: str = ref(zone, "zone_id")
        self.hostnames: dict[str, str] = {props.name: self.fqdn}
        self.name_servers: Any = zone.ref_list("name_servers")

        #: region -> its (first) ``aws_route53_record``; ``geo_records``: region -> code -> record.
        self.records: dict[str, Resource] = {}
        self.geo_records: dict[str, dict[str, Resource]] = {}
        #: geo policy: region -> the Route 53 location codes it answers (``*`` = everyone else).
        self.geo: dict[str, list[str]] = geo
        #: failover with more than two regions: the alias records that chain the failover pairs.
        self.failover_aliases: list[Resource] = []
        self.health_checks: dict[str, Resource] = {}
        self.default_record: Resource | None = None
        levels = [self.fqdn] + [f"failover{i}.{self.fqdn}" for i in range(1, len(endpoints) - 1)]
        for n, endpoint in enumerate(endpoints):
            region = endpoint.region
            site = engine.Construct(self, region)
            check = Resource(
                site,
                "HealthCheck",
                "aws_route53_health_check",
                provider=provider,
                type="CLOUDWATCH_METRIC",
                cloudwatch_alarm_name=endpoint.health_alarm_name,
                cloudwatch_alarm_region=region,
                insufficient_data_health_status="LastKnownStatus",
                tags={"Name": f"{self.fqdn} {region}"},
            )
            self.health_checks[region] = check
            record = dict(
                zone_id=self.zone_id,
                name=self.fqdn,
                type="CNAME",
                ttl=DNS_TTL_SECONDS,
                records=[endpoint.runtime_host],
                health_check_id=ref(check, "id"),
            )
            if props.policy == "latency":
                self.records[region] = Resource(
                    site, "Record", "aws_route53_record", provider=provider,
                    set_identifier=region, **record, latency_routing_policy={"region": region},
                )
            elif props.policy == "failover":
                self.records[region] = self._failover_record(site, levels, n, region, record, provider)
            else:
                self._geo_records(site, region, geo[region], record, provider)
        self.recovery: Recovery = Recovery(
            rpo_minutes=None,
            rto_minutes=failover_rto_minutes(props.health_check_interval_seconds),
            replica_region=endpoints[1].region if len(endpoints) > 1 else None,
        )

    # ------------------------------------------------------------------ policies

    def _geo(self, props: CoreRoutingProps, regions: list[str]) -> dict[str, list[str]]:
        """Region -> Route 53 location codes: ``props.geo`` checked, then :func:`geo_mapping`."""
        given = {r: codes for r, codes in (props.geo or {}).items() if r in regions}
        seen: dict[str, str] = {}
        for region, codes in given.items():
            for code in codes:
                problem = geo_code_problem("aws", code)
                if problem or code in seen:
                    raise ConstructError(
                        self.node.path,
                        f"geo.{region}: {problem or f'{code!r} is already answered by {seen[code]}'}"
                    )
                seen[code] = region
        return geo_mapping("aws", regions, given)

    def _failover_record(
        self,
        site: engine.Construct,
        levels: list[str],
        n: int,
        region: str,
        record: dict[str, Any],
        provider: engine.TerraformProvider | None,
    ) -> Resource:
        """Region ``n`` of the ordered failover chain: PRIMARY of level ``n`` (the last region:
        SECONDARY of the last level); a PRIMARY below the last level also gets the SECONDARY alias
        of its level, pointing at the next level."""
        last = len(levels) - 1
        level = min(n, last)
        kind = "SECONDARY" if n > last else "PRIMARY"
        out = Resource(
            site, "Record", "aws_route53_record", provider=provider, set_identifier=region,
            **{**record, "name": levels[level]}, failover_routing_policy={"type": kind},
        )
        if kind == "PRIMARY" and level < last:
            self.failover_aliases.append(Resource(
                site, "FailoverNext", "aws_route53_record", provider=provider,
                set_identifier=f"after-{region}",
                zone_id=self.zone_id,
                name=levels[level],
                type="CNAME",
                alias={"name": levels[level + 1], "zone_id": self.zone_id, "evaluate_target_health": True},
                failover_routing_policy={"type": "SECONDARY"},
            ))
        return out

    def _geo_records(
        self,
        site: engine.Construct,
        region: str,
        codes: list[str],
        record: dict[str, Any],
        provider: engine.TerraformProvider | None,
    ) -> None:
        """One geolocation record per location code of ``region`` (none when it answers nothing)."""
        records: dict[str, Resource] = {}
        for code in codes:
            if code == "*":
                location, cid, ident = {"country": "*"}, "DefaultRecord", f"{region}-default"
            elif code in ROUTE53_CONTINENTS:
                location, cid, ident = {"continent": code}, f"Record-{code}", f"{region}-{code}"
            elif "-" in code:
                country, sub = code.split("-", 1)
                location, cid, ident = {"country": country, "subdivision": sub}, f"Record-{code}", f"{region}-{code}"
            else:
                location, cid, ident = {"country": code}, f"Record-{code}", f"{region}-{code}"
            records[code] = Resource(
                site, cid, "aws_route53_record", provider=provider, set_identifier=ident,
                **record, geolocation_routing_policy=location,
            )
            if code == "*":
                self.default_record = records[code]
        self.geo_records[region] = records
        first = next((r for c, r in records.items() if c != "*"), None) or next(iter(records.values()), None)
        if first is not None:
            self.records[region] = first

    # ------------------------------------------------------------------ zone

    def _zone(
        self,
        props: CoreRoutingProps,
        provider: engine.TerraformProvider | None,
        us_east_1: engine.TerraformProvider | None,
    ) -> Resource:
        logs_provider = us_east_1 or provider
        zone = Resource(
            self,
            "Zone",
            "aws_route53_zone",
            provider=provider,
            name=props.domain,
            comment=f"ML serving of {props.domain} (cdktf-mlops)",
            force_destroy=False,
        )
        account = _iam.account_id(self, logs_provider)
        partition = _iam.partition(self, logs_provider)
        if getattr(props, "query_logging", True):
            group_name = f"/aws/route53/{props.domain}"
            group_arn = f"arn:{partition}:logs:us-east-1:{account}:log-group:{group_name}"
            key = Key(
                self,
                "QueryLogKey",
                KeyProps(
                    # The domain's hash keeps the alias unique per zone within an account.
                    name=f"{props.name}-dns-query-logs-{short_hash(props.domain)}",
                    description=f"Encrypts DNS query logs of {props.domain}",
                ),
                provider=logs_provider,
            )
            key.allow_cloudwatch_logs("CloudWatchLogsOfThisLogGroupOnly", region="us-east-1", log_group_arn=group_arn)
            group = Resource(
                self,
                "QueryLogGroup",
                "aws_cloudwatch_log_group",
                provider=logs_provider,
                name=group_name,
                retention_in_days=getattr(props, "log_retention_days", 365),
                kms_key_id=key.key_id,
            )
            policy = Resource(
                self,
                "QueryLogPolicy",
                "aws_cloudwatch_log_resource_policy",
                provider=logs_provider,
                policy_name=f"{props.name}-route53-query-logs"[:64],
                policy_document=policy_document(
                    [
                        {
                            "Sid": "Route53QueryLogsOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "route53.amazonaws.com"},
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                            "Resource": f"{group_arn}:*",
                            "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                        }
                    ]
                ),
            )
            self.query_log: Resource | None = Resource(
                self,
                "QueryLog",
                "aws_route53_query_log",
                provider=logs_provider,
                depends_on=[policy],
                zone_id=ref(zone, "zone_id"),
                cloudwatch_log_group_arn=ref(group, "arn"),
            )
        else:
            self.query_log = None
        self.dnssec: Resource | None = None
        if getattr(props, "dnssec", True):
            key = Resource(
                self,
                "DnssecKey",
                "aws_kms_key",
                provider=logs_provider,
                description=f"DNSSEC key-signing key of {props.domain}",
                customer_master_key_spec="ECC_NIST_P256",
                key_usage="SIGN_VERIFY",
                deletion_window_in_days=30,
                policy=policy_document(
                    [
                        {
                            "Sid": "EnableIamPoliciesOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                            "Action": "kms:*",
                            "Resource": "*",
                        },
                        {
                            "Sid": "Route53DnssecOfThisAccount",
                            "Effect": "Allow",
                            "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                            "Action": ["kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"],
                            "Resource": "*",
                            "Condition": {
                                "StringEquals": {"aws:SourceAccount": account},
                                "ArnLike": {"aws:SourceArn": f"arn:{partition}:route53:::hostedzone/*"},
                            },
                        },
                        {
                            "Sid": "Route53DnssecGrants",
                            "Effect": "Allow",
                            "Principal": {"Service": "dnssec-route53.amazonaws.com"},
                            "Action": "kms:CreateGrant",
                            "Resource": "*",
                            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
                        },
                    ]
                ),
            )
            ksk = Resource(
                self,
                "KeySigningKey",
                "aws_route53_key_signing_key",
                provider=provider,
                hosted_zone_id=ref(zone, "id"),
                key_management_service_arn=ref(key, "arn"),
                name=f"{props.name.replace('-', '')}ksk"[:128],
                status="ACTIVE",
            )
            self.dnssec = Resource(
                self,
                "Dnssec",
                "aws_route53_hosted_zone_dnssec",
                provider=provider,
                depends_on=[ksk],
                hosted_zone_id=ref(ksk, "hosted_zone_id"),
                signing_status="SIGNING",
            )
        return zone
