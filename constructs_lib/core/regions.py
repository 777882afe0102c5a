"""Region facts per cloud: names, continents, Azure region pairs, Cloud Storage multi-regions.

One place for what the spec, storage and routing decide from a region name: where a store's
replica goes (:func:`replica_region`) and which region answers callers of which continent under
geo routing (:func:`geo_mapping`). Each table names its source; a region missing from a table is
treated conservatively (no known pair / multi-region: no cross-region copy; continent from the
name's prefix).

Continents are written in one neutral vocabulary, :data:`CONTINENTS`: ``AF`` Africa, ``AN``
Antarctica, ``AS`` Asia, ``EU`` Europe, ``ME`` Middle East, ``NA`` North (and Central) America,
``OC`` Oceania, ``SA`` South America. Route 53 has no ``ME`` (its Middle East is Asia:
:func:`route53_continent`); Traffic Manager has ``GEO-ME`` and calls Oceania ``GEO-AP``
(:func:`traffic_manager_code`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

__all__ = [
    "AWS_REGIONS",
    "AZURE_PAIRS",
    "AZURE_REGIONS",
    "CONTINENTS",
    "CONTINENT_ORDER",
    "GCP_REGIONS",
    "GCS_MULTI_REGIONS",
    "GCS_PREDEFINED_DUAL_REGIONS",
    "ISO_COUNTRIES",
    "REGIONS",
    "ROUTE53_CONTINENTS",
    "TRAFFIC_MANAGER_REGIONS",
    "Cloud",
    "azure_pair",
    "catch_all",
    "continent_of",
    "gcs_multi_region",
    "gcs_partner",
    "geo_code_problem",
    "geo_mapping",
    "replica_candidates",
    "replica_problem",
    "replica_region",
    "route53_continent",
    "traffic_manager_code",
]

Cloud = Literal["aws", "azure", "gcp"]

#: The neutral continent codes (see the module docstring).
CONTINENTS: tuple[str, ...] = ("AF", "AN", "AS", "EU", "ME", "NA", "OC", "SA")

#: For each continent, every continent from nearest to farthest (itself first): a continent without
#: a spec region is served by the first continent of its row that has one. A fixed, documented
#: order (great-circle distances between the continents' population centres, rounded to a rank),
#: so that the same regions always give the same mapping.
CONTINENT_ORDER: dict[str, tuple[str, ...]] = {
    "AF": ("AF", "EU", "ME", "SA", "AS", "NA", "OC", "AN"),
    "AN": ("AN", "OC", "SA", "AF", "AS", "NA", "EU", "ME"),
    "AS": ("AS", "OC", "ME", "EU", "NA", "AF", "SA", "AN"),
    "EU": ("EU", "ME", "AF", "NA", "AS", "SA", "OC", "AN"),
    "ME": ("ME", "EU", "AS", "AF", "NA", "OC", "SA", "AN"),
    "NA": ("NA", "SA", "EU", "AS", "OC", "ME", "AF", "AN"),
    "OC": ("OC", "AS", "NA", "SA", "ME", "EU", "AF", "AN"),
    "SA": ("SA", "NA", "EU", "AF", "OC", "AS", "ME", "AN"),
}

# ------------------------------------------------------------------------------------------ AWS

#: AWS regions (commercial partition and GovCloud) -> continent. Source: the region list of
#: botocore's endpoints.json (botocore 1.35.99: partitions ``aws`` and ``aws-us-gov``); continents
#: from AWS's "Regions and Availability Zones" page (Sydney and Melbourne are Oceania, Bahrain,
#: UAE and Tel Aviv the Middle East).
AWS_REGIONS: dict[str, str] = {
    "af-south-1": "AF",
    "ap-east-1": "AS",
    "ap-northeast-1": "AS",
    "ap-northeast-2": "AS",
    "ap-northeast-3": "AS",
    "ap-south-1": "AS",
    "ap-south-2": "AS",
    "ap-southeast-1": "AS",
    "ap-southeast-2": "OC",
    "ap-southeast-3": "AS",
    "ap-southeast-4": "OC",
    "ap-southeast-5": "AS",
    "ap-southeast-7": "AS",
    "ca-central-1": "NA",
    "ca-west-1": "NA",
    "eu-central-1": "EU",
    "eu-central-2": "EU",
    "eu-north-1": "EU",
    "eu-south-1": "EU",
    "eu-south-2": "EU",
    "eu-west-1": "EU",
    "eu-west-2": "EU",
    "eu-west-3": "EU",
    "il-central-1": "ME",
    "me-central-1": "ME",
    "me-south-1": "ME",
    "mx-central-1": "NA",
    "sa-east-1": "SA",
    "us-east-1": "NA",
    "us-east-2": "NA",
    "us-gov-east-1": "NA",
    "us-gov-west-1": "NA",
    "us-west-1": "NA",
    "us-west-2": "NA",
}
_AWS_PREFIX_CONTINENT = {"af": "AF", "ap": "AS", "ca": "NA", "eu": "EU", "il": "ME", "me": "ME",
                         "mx": "NA", "sa": "SA", "us": "NA"}

#: Route 53 geolocation continent codes (``geolocation_routing_policy.continent``).
ROUTE53_CONTINENTS: tuple[str, ...] = ("AF", "AN", "AS", "EU", "NA", "OC", "SA")

# ---------------------------------------------------------------------------------------- Azure

#: Azure public-cloud regions -> (continent, paired region or None). Source: Microsoft Learn,
#: "Azure region pairs and nonpaired regions" (reliability/regions-paired). Pairs are mostly
#: two-way; brazilsouth -> southcentralus, westindia -> southindia and westus3 -> eastus are one-way.
#: Regions without a pair (``None``) cannot have geo-redundant storage (RA-GZRS needs the pair).
AZURE_REGIONS: dict[str, tuple[str, str | None]] = {
    "australiacentral": ("OC", "australiacentral2"),
    "australiacentral2": ("OC", "australiacentral"),
    "australiaeast": ("OC", "australiasoutheast"),
    "australiasoutheast": ("OC", "australiaeast"),
    "brazilsouth": ("SA", "southcentralus"),
    "brazilsoutheast": ("SA", "brazilsouth"),
    "canadacentral": ("NA", "canadaeast"),
    "canadaeast": ("NA", "canadacentral"),
    "centralindia": ("AS", "southindia"),
    "centralus": ("NA", "eastus2"),
    "eastasia": ("AS", "southeastasia"),
    "eastus": ("NA", "westus"),
    "eastus2": ("NA", "centralus"),
    "francecentral": ("EU", "francesouth"),
    "francesouth": ("EU", "francecentral"),
    "germanynorth": ("EU", "germanywestcentral"),
    "germanywestcentral": ("EU", "germanynorth"),
    "israelcentral": ("ME", None),
    "italynorth": ("EU", None),
    "japaneast": ("AS", "japanwest"),
    "japanwest": ("AS", "japaneast"),
    "jioindiacentral": ("AS", "jioindiawest"),
    "jioindiawest": ("AS", "jioindiacentral"),
    "koreacentral": ("AS", "koreasouth"),
    "koreasouth": ("AS", "koreacentral"),
    "mexicocentral": ("NA", None),
    "newzealandnorth": ("OC", None),
    "northcentralus": ("NA", "southcentralus"),
    "northeurope": ("EU", "westeurope"),
    "norwayeast": ("EU", "norwaywest"),
    "norwaywest": ("EU", "norwayeast"),
    "polandcentral": ("EU", None),
    "qatarcentral": ("ME", None),
    "southafricanorth": ("AF", "southafricawest"),
    "southafricawest": ("AF", "southafricanorth"),
    "southcentralus": ("NA", "northcentralus"),
    "southeastasia": ("AS", "eastasia"),
    "southindia": ("AS", "centralindia"),
    "spaincentral": ("EU", None),
    "swedencentral": ("EU", "swedensouth"),
    "swedensouth": ("EU", "swedencentral"),
    "switzerlandnorth": ("EU", "switzerlandwest"),
    "switzerlandwest": ("EU", "switzerlandnorth"),
    "uaecentral": ("ME", "uaenorth"),
    "uaenorth": ("ME", "uaecentral"),
    "uksouth": ("EU", "ukwest"),
    "ukwest": ("EU", "uksouth"),
    "westcentralus": ("NA", "westus2"),
    "westeurope": ("EU", "northeurope"),
    "westindia": ("AS", "southindia"),
    "westus": ("NA", "eastus"),
    "westus2": ("NA", "westcentralus"),
    "westus3": ("NA", "eastus"),
}
#: Region -> paired region, for the regions that have one (see :data:`AZURE_REGIONS`).
AZURE_PAIRS: dict[str, str] = {r: pair for r, (_, pair) in AZURE_REGIONS.items() if pair is not None}
_AZURE_PREFIX_CONTINENT: tuple[tuple[str, str], ...] = (
    ("australia", "OC"), ("newzealand", "OC"), ("brazil", "SA"), ("chile", "SA"), ("canada", "NA"),
    ("mexico", "NA"), ("southafrica", "AF"), ("uae", "ME"), ("qatar", "ME"), ("israel", "ME"),
    ("saudi", "ME"), ("japan", "AS"), ("korea", "AS"), ("india", "AS"), ("jioindia", "AS"),
    ("indonesia", "AS"), ("malaysia", "AS"), ("taiwan", "AS"), ("eastasia", "AS"), ("southeastasia", "AS"),
)

#: Traffic Manager geographic regions (the top of its geographic hierarchy below ``WORLD``).
#: Source: Microsoft Learn, "Traffic Manager geographic regions".
TRAFFIC_MANAGER_REGIONS: tuple[str, ...] = (
    "GEO-AF", "GEO-AN", "GEO-AS", "GEO-AP", "GEO-EU", "GEO-ME", "GEO-NA", "GEO-SA",
)

# ------------------------------------------------------------------------------------------ GCP

#: Cloud Storage multi-regions -> the regions in them. Source: Google Cloud, "Bucket locations"
#: (storage/docs/locations): the EU multi-region holds EU member states only, so London
#: (europe-west2) and Zurich (europe-west6) are not in it; Hong Kong (asia-east2) and Jakarta
#: (asia-southeast2) are not in ASIA. A configurable dual-region bucket takes two regions of one
#: multi-region.
GCS_MULTI_REGIONS: dict[str, tuple[str, ...]] = {
    "ASIA": ("asia-east1", "asia-northeast1", "asia-northeast2", "asia-northeast3", "asia-south1",
             "asia-south2", "asia-southeast1"),
    "EU": ("europe-central2", "europe-north1", "europe-southwest1", "europe-west1", "europe-west3",
           "europe-west4", "europe-west8", "europe-west9", "europe-west10", "europe-west12"),
    "US": ("us-central1", "us-east1", "us-east4", "us-east5", "us-south1", "us-west1", "us-west2",
           "us-west3", "us-west4"),
}
#: Predefined dual-regions whose two regions lie in one multi-region, and the pair (same source).
#: They make the default partner of their regions; each multi-region's first pair is also the
#: default partner of its other regions. (EUR5, EUR7 and EUR8 pair London or Zurich, which are in
#: no multi-region; this library does not use them: see ``docs/gcp.md``.)
GCS_PREDEFINED_DUAL_REGIONS: dict[str, tuple[str, str]] = {
    "NAM4": ("us-central1", "us-east1"),
    "EUR4": ("europe-west4", "europe-north1"),
    "ASIA1": ("asia-northeast1", "asia-northeast2"),
}
_GCS_ANCHOR = {"US": "NAM4", "EU": "EUR4", "ASIA": "ASIA1"}

#: GCP regions -> continent. Source: Google Cloud, "Cloud locations" (regions with Cloud Storage
#: and Vertex AI).
GCP_REGIONS: dict[str, str] = {
    "africa-south1": "AF",
    "asia-east1": "AS",
    "asia-east2": "AS",
    "asia-northeast1": "AS",
    "asia-northeast2": "AS",
    "asia-northeast3": "AS",
    "asia-south1": "AS",
    "asia-south2": "AS",
    "asia-southeast1": "AS",
    "asia-southeast2": "AS",
    "australia-southeast1": "OC",
    "australia-southeast2": "OC",
    "europe-central2": "EU",
    "europe-north1": "EU",
    "europe-southwest1": "EU",
    "europe-west1": "EU",
    "europe-west2": "EU",
    "europe-west3": "EU",
    "europe-west4": "EU",
    "europe-west6": "EU",
    "europe-west8": "EU",
    "europe-west9": "EU",
    "europe-west10": "EU",
    "europe-west12": "EU",
    "me-central1": "ME",
    "me-central2": "ME",
    "me-west1": "ME",
    "northamerica-northeast1": "NA",
    "northamerica-northeast2": "NA",
    "northamerica-south1": "NA",
    "southamerica-east1": "SA",
    "southamerica-west1": "SA",
    "us-central1": "NA",
    "us-east1": "NA",
    "us-east4": "NA",
    "us-east5": "NA",
    "us-south1": "NA",
    "us-west1": "NA",
    "us-west2": "NA",
    "us-west3": "NA",
    "us-west4": "NA",
}
_GCP_PREFIX_CONTINENT = {"africa": "AF", "asia": "AS", "australia": "OC", "europe": "EU", "me": "ME",
                         "northamerica": "NA", "southamerica": "SA", "us": "NA"}

#: Every known region per cloud (what property-based tests draw from).
REGIONS: dict[str, tuple[str, ...]] = {
    "aws": tuple(AWS_REGIONS),
    "azure": tuple(AZURE_REGIONS),
    "gcp": tuple(GCP_REGIONS),
}

# ------------------------------------------------------------------------------------ countries

#: ISO 3166-1 alpha-2 country codes (the country vocabulary of Route 53 geolocation and of
#: Traffic Manager). Source: ISO 3166 Maintenance Agency, officially assigned codes.
ISO_COUNTRIES: frozenset[str] = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
    BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
    EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
    HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
    LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
    NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
    SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
    TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()
)
_SUBDIVISION = re.compile(r"^(?P<country>[A-Z]{2})-[A-Z0-9]{1,3}$")


# ------------------------------------------------------------------------------------ functions


def continent_of(cloud: Cloud, region: str) -> str:
    """The neutral continent of ``region`` (table first, then the name's prefix; Europe when unknown)."""
    if cloud == "aws":
        return AWS_REGIONS.get(region) or _AWS_PREFIX_CONTINENT.get(region.split("-", 1)[0], "EU")
    if cloud == "gcp":
        return GCP_REGIONS.get(region) or _GCP_PREFIX_CONTINENT.get(region.split("-", 1)[0], "EU")
    r = region.replace(" ", "").lower()
    if r in AZURE_REGIONS:
        return AZURE_REGIONS[r][0]
    found = next((c for prefix, c in _AZURE_PREFIX_CONTINENT if r.startswith(prefix)), None)
    if found is None and re.search(r"us\d*(euap)?$", r):
        found = "NA"  # eastus2, westcentralus, centraluseuap ...
    return found or "EU"


def route53_continent(continent: str) -> str:
    """A neutral continent as a Route 53 continent code (the Middle East is Asia there)."""
    return "AS" if continent == "ME" else continent


def traffic_manager_code(continent: str) -> str:
    """A neutral continent as a Traffic Manager geographic region code (Oceania is ``GEO-AP``)."""
    return "GEO-AP" if continent == "OC" else f"GEO-{continent}"


def azure_pair(region: str) -> str | None:
    """The paired region of an Azure region, or None (no pair, or a region this table lacks)."""
    return AZURE_PAIRS.get(region.replace(" ", "").lower())


def gcs_multi_region(region: str) -> str | None:
    """The Cloud Storage multi-region (``US``, ``EU``, ``ASIA``) that holds ``region``, or None."""
    return next((mr for mr, members in GCS_MULTI_REGIONS.items() if region in members), None)


def gcs_partner(region: str) -> str | None:
    """The default second region of a dual-region bucket in ``region``: the other half of its
    predefined dual-region, else the first region of its multi-region's predefined dual-region
    (NAM4, EUR4, ASIA1); None outside the multi-regions."""
    for a, b in GCS_PREDEFINED_DUAL_REGIONS.values():
        if region in (a, b):
            return b if region == a else a
    mr = gcs_multi_region(region)
    return GCS_PREDEFINED_DUAL_REGIONS[_GCS_ANCHOR[mr]][0] if mr else None


def replica_candidates(cloud: Cloud, primary: str) -> str:
    """Where a replica of a store in ``primary`` may go, in words (for error messages)."""
    if cloud == "aws":
        return "any other AWS region"
    if cloud == "azure":
        pair = azure_pair(primary)
        return f"only {pair!r}, the paired region" if pair else "nowhere: the region has no paired region"
    mr = gcs_multi_region(primary)
    if mr is None:
        return "nowhere: the region is in no Cloud Storage multi-region"
    others = [r for r in GCS_MULTI_REGIONS[mr] if r != primary]
    return f"a region of the {mr} multi-region ({', '.join(others)})"


def replica_problem(cloud: Cloud, primary: str, replica: str) -> str | None:
    """Why ``replica`` cannot hold the replica of a store in ``primary`` (None when it can)."""
    if replica == primary:
        return f"{replica!r} is the primary region; a replica must be in another region"
    if cloud == "azure":
        known = primary.replace(" ", "").lower() in AZURE_REGIONS
        pair = azure_pair(primary)
        if known and pair != replica.replace(" ", "").lower():
            return (f"Azure geo-redundant storage (RA-GZRS) replicates {primary!r} to its paired region "
                    f"only; the replica region can be {replica_candidates(cloud, primary)}")
    if cloud == "gcp" and (gcs_multi_region(primary) is None or gcs_multi_region(primary) != gcs_multi_region(replica)):
        return (f"a dual-region Cloud Storage bucket needs two regions of one multi-region; for "
                f"{primary!r} the replica region can be {replica_candidates(cloud, primary)}")
    return None


def replica_region(cloud: Cloud, regions: Sequence[str], explicit: str | None = None) -> str | None:
    """The region that receives store replicas by default, or ``explicit`` (checked by
    :func:`replica_problem` elsewhere); None when there is none.

    AWS: the second region of ``regions`` (S3 replicates to any region). Azure: the primary's paired
    region (RA-GZRS cannot go anywhere else). GCP: the second region when it shares the primary's
    Cloud Storage multi-region, else the first later region that does, else :func:`gcs_partner`.
    """
    if explicit is not None:
        return explicit
    primary, others = regions[0], list(regions[1:])
    if cloud == "aws":
        return others[0] if others else None
    if cloud == "azure":
        return azure_pair(primary)
    mr = gcs_multi_region(primary)
    if mr is None:
        return None
    return next((r for r in others if gcs_multi_region(r) == mr), None) or gcs_partner(primary)


# ------------------------------------------------------------------------------------------ geo


def _provider_continents(cloud: Cloud) -> tuple[str, ...]:
    return tuple(c for c in CONTINENTS if c != "ME") if cloud == "aws" else CONTINENTS


def _provider_code(cloud: Cloud, continent: str) -> str:
    return route53_continent(continent) if cloud == "aws" else traffic_manager_code(continent)


def catch_all(cloud: Cloud) -> str:
    """The provider's code for "everyone not mapped elsewhere": Route 53 ``*``, Traffic Manager ``WORLD``."""
    return "*" if cloud == "aws" else "WORLD"


def geo_code_problem(cloud: Cloud, code: str) -> str | None:
    """Why ``code`` is not a geographic code of ``cloud``'s geo routing (None when it is one)."""
    if cloud == "aws":
        if code in ROUTE53_CONTINENTS or code == "*" or code in ISO_COUNTRIES:
            return None
        m = _SUBDIVISION.match(code)
        if m and m.group("country") in ISO_COUNTRIES:
            return None
        return (f"{code!r} is not a Route 53 location: a continent ({' '.join(ROUTE53_CONTINENTS)}), "
                "an ISO country code (DE), a subdivision (US-CA) or * (everyone else)")
    if cloud == "azure":
        if code in TRAFFIC_MANAGER_REGIONS or code == "WORLD" or code in ISO_COUNTRIES:
            return None
        m = _SUBDIVISION.match(code)
        if m and m.group("country") in ISO_COUNTRIES:
            return None
        return (f"{code!r} is not a Traffic Manager geographic code: WORLD, a region "
                f"({' '.join(TRAFFIC_MANAGER_REGIONS)}), an ISO country code (DE) or a state (US-CA)")
    return "GCP geo routing answers each caller from the nearest region; it takes no codes"


def geo_mapping(
    cloud: Cloud, regions: Sequence[str], override: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """Region -> the provider's geographic codes that region answers, covering the world once.

    Default: every continent of the provider goes to the first region (in ``regions`` order,
    primary first) on that continent, or, when no region is on it, to the region of the nearest
    continent that has one (:data:`CONTINENT_ORDER`); the catch-all (:func:`catch_all`) goes to
    the primary. A region on a continent that an earlier region already answers gets no code.

    ``override`` (``routing.geo``): the regions it names answer exactly its codes; the continents
    are shared out as above among the other regions, without the codes the override names; the
    catch-all goes to the first region without an override (the primary when every region has
    one) unless the override names it. Codes come in the provider's order: continents first.
    """
    override = {r: list(codes) for r, codes in (override or {}).items()}
    taken = {code for codes in override.values() for code in codes}
    free = [r for r in regions if r not in override]
    out: dict[str, list[str]] = {r: override.get(r, []) for r in regions}
    if free:
        home = {r: _provider_code(cloud, continent_of(cloud, r)) for r in free}
        for c in _provider_continents(cloud):
            code = _provider_code(cloud, c)
            if code in taken:
                continue
            order = [_provider_code(cloud, o) for o in CONTINENT_ORDER[c]]
            out[next(r for o in order for r in free if home[r] == o)].append(code)
    if catch_all(cloud) not in taken:
        out[free[0] if free else regions[0]].append(catch_all(cloud))
    return out
