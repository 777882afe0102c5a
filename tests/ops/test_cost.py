"""`cdktf-mlops cost`: hand-computed fixtures, invariants, the catalogue, classes of every emitted type,
the --prices override and the CLI on every example of every cloud."""

from __future__ import annotations

import csv
import json
import re
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from constructs_lib.cli import app
from constructs_lib.ops.cost import (
    CLASSES, PROFILES, PriceError, UsageError, analyse, analyse_dir, cost_markdown, load_catalogue, load_usage,
    resource_class, to_json,
)
from constructs_lib.ops.cost.azure import AZAPI_CLASSES, azapi_type
from constructs_lib.ops.cost.quantities import EXTRACTORS, runs_per_month, tier_shares

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "constructs_lib" / "ops" / "cost" / "prices.csv"


# ---------------------------------------------------------------- fixtures: hand-written stacks

def _endpoint_stack(region: str = "us-east-1", *, lo: int = 2, hi: int = 6, budget: str | None = None) -> dict:
    doc: dict = {
        "provider": {"aws": [{"region": region}]},
        "resource": {
            "aws_sagemaker_endpoint_configuration": {"cfg": {
                "//": {"metadata": {"path": "s/endpoint-churn/Config"}},
                "production_variants": [{"initial_instance_count": lo, "instance_type": "ml.m5.large", "variant_name": "AllTraffic"}]}},
            "aws_sagemaker_endpoint": {"ep": {
                "//": {"metadata": {"path": "s/endpoint-churn/Resource"}},
                "endpoint_config_name": "${aws_sagemaker_endpoint_configuration.cfg.name}", "name": "churn"}},
            "aws_appautoscaling_target": {"tgt": {
                "//": {"metadata": {"path": "s/endpoint-churn/Target"}},
                "min_capacity": lo, "max_capacity": hi,
                "resource_id": "endpoint/${aws_sagemaker_endpoint.ep.name}/variant/AllTraffic"}},
        },
    }
    if budget:
        doc["resource"]["aws_budgets_budget"] = {"b": {"limit_amount": budget, "limit_unit": "USD", "time_unit": "MONTHLY"}}
    return doc


def _write(tmp: Path, stacks: dict[str, dict]) -> Path:
    for name, doc in stacks.items():
        d = tmp / "stacks" / name
        d.mkdir(parents=True)
        (d / "cdk.tf.json").write_text(json.dumps(doc))
    return tmp


@pytest.fixture(scope="module")
def examples_out(example_stacks: dict[str, dict], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every example's stacks (synthesized once per session by tests/conftest.py) as output folders."""
    outs: dict[str, Path] = {}
    for key, doc in example_stacks.items():
        example, stack = key.split("/", 1)
        out = outs.setdefault(example, tmp_path_factory.mktemp(f"cost-{example}"))
        d = out / "stacks" / stack
        d.mkdir(parents=True)
        (d / "cdk.tf.json").write_text(json.dumps(doc))
    return outs


# ---------------------------------------------------------------- hand-computed figures

def test_two_ml_m5_large_in_us_east_1_for_a_month(tmp_path: Path) -> None:
    """2 x 0.115 USD/h x 730 h = 167.90 fixed; at max 6 instances the ceiling is 6 x 0.115 x 730 = 503.70."""
    out = _write(tmp_path, {"s": _endpoint_stack()})
    (stack,), _ = analyse(out, profile="typical")
    ep = next(r for r in stack.resources if r.tf_type == "aws_sagemaker_endpoint")
    assert ep.total("fixed") == pytest.approx(167.90)
    assert ep.total("monthly") == pytest.approx(167.90)
    assert ep.total("ceiling") == pytest.approx(503.70)
    (peak,), _ = analyse(out, profile="peak")
    assert peak.total("monthly") == pytest.approx(503.70)
    (c,) = ep.components
    assert c.price is not None and c.price.price == 0.115 and c.price.source and c.price.date_read
    advice = {a.title.split(" of ")[0]: a for a in stack.advice}
    assert advice["Lower min instances"].saving == pytest.approx(83.95)
    assert advice["Lower min instances"].change == "serving.endpoints[churn].min_instances: 1"


def test_an_unknown_region_is_unpriced_with_its_quantity_never_zero(tmp_path: Path) -> None:
    out = _write(tmp_path, {"s": _endpoint_stack("ap-south-2")})
    (stack,), usage = analyse(out)
    ep = next(r for r in stack.resources if r.tf_type == "aws_sagemaker_endpoint")
    (c,) = ep.unpriced
    assert c.line.fixed == 1460 and c.monthly is None
    assert "no ap-south-2 price" in c.unpriced_reason and "us-east-1" in c.unpriced_reason
    assert not stack.complete
    comp = json.loads(to_json([stack], usage))["projects"][0]["breakdown"]["resources"][0]["costComponents"][0]
    assert comp["monthlyCost"] is None and comp["price"] is None and comp["monthlyQuantity"] == 1460
    assert "Lower bound" in cost_markdown(out / "stacks" / "s")


def test_storage_follows_the_lifecycle_rules(tmp_path: Path) -> None:
    """1000 GB aged evenly over 365 days with transitions at 30 and 180 days, priced per class."""
    doc = {"provider": {"aws": [{"region": "us-east-1"}]}, "resource": {
        "aws_s3_bucket": {"data": {"//": {"metadata": {"path": "s/data/Resource"}}, "bucket": "d"}},
        "aws_s3_bucket_lifecycle_configuration": {"lc": {"bucket": "${aws_s3_bucket.data.id}", "rule": [
            {"status": "Enabled", "filter": {"prefix": ""},
             "transition": [{"days": 30, "storage_class": "STANDARD_IA"}, {"days": 180, "storage_class": "GLACIER_IR"}]}]}}}}
    out = _write(tmp_path, {"s": doc})
    usage_file = tmp_path / "usage.yaml"
    usage_file.write_text("profile: typical\ndefaults: {storage_gb: 1000, data_age_days: 365}\n")
    (stack,), _ = analyse(out, usage_file=usage_file)
    bucket = next(r for r in stack.resources if r.tf_type == "aws_s3_bucket")
    expected = 1000 * (30 / 365 * 0.023 + 150 / 365 * 0.0125 + 185 / 365 * 0.004)
    assert bucket.total("monthly") == pytest.approx(expected)
    assert tier_shares([], 365, "STANDARD") == [("STANDARD", 1.0)]


def test_budget_exceeded_by_the_fixed_cost_alone(tmp_path: Path) -> None:
    out = _write(tmp_path, {"s": _endpoint_stack(budget="100.00")})
    (stack,), usage = analyse(out)
    assert stack.budget is not None and stack.budget.amount == 100
    budget = json.loads(to_json([stack], usage))["projects"][0]["budget"]
    assert budget["fixedExceeds"] and budget["estimateExceeds"]
    assert "fixed cost alone exceeds the budget" in cost_markdown(out / "stacks" / "s")


def test_cron_runs_per_month() -> None:
    assert runs_per_month("cron(0 * ? * * *)") == pytest.approx(730)
    assert runs_per_month("cron(0 3 ? * MON *)") == pytest.approx(730 / 24 / 7)
    assert runs_per_month("rate(1 day)") == pytest.approx(730 / 24)


# ---------------------------------------------------------------- the --prices override and usage files

def test_prices_file_overrides_and_adds_rows(tmp_path: Path) -> None:
    out = _write(tmp_path, {"a": _endpoint_stack(), "b": _endpoint_stack("ap-south-2")})
    prices = tmp_path / "negotiated.csv"
    prices.write_text(
        "key,region,price,unit,currency,source,date_read,how_obtained\n"
        "aws.sagemaker.hosting.ml.m5.large,us-east-1,0.1,hour,USD,EDP contract 2026,2026-12-01,our contract\n"
        "aws.sagemaker.hosting.ml.m5.large,ap-south-2,0.12,hour,USD,AWS console,2026-12-01,read by hand\n")
    (a, b), _ = analyse(out, prices_file=prices)
    assert a.total("fixed") == pytest.approx(2 * 0.1 * 730)
    assert b.total("fixed") == pytest.approx(2 * 0.12 * 730) and b.complete
    ep = next(r for r in a.resources if r.tf_type == "aws_sagemaker_endpoint")
    assert ep.components[0].price.origin == "override:negotiated.csv"
    bad = tmp_path / "bad.csv"
    bad.write_text("key,region,price,unit,currency,source,date_read,how_obtained\nx,us-east-1,1,hour,USD,,2026-12-01,guess\n")
    with pytest.raises(PriceError, match="missing source"):
        load_catalogue(bad)


def test_usage_file_overrides_by_construct_path_and_rejects_nonsense(tmp_path: Path) -> None:
    out = _write(tmp_path, {"s": _endpoint_stack()})
    usage = tmp_path / "usage.yaml"
    usage.write_text("profile: idle\nresources:\n  s/endpoint-churn: {endpoint_load: 0.5}\n")
    (stack,), used = analyse(out, usage_file=usage)
    assert stack.total("monthly") == pytest.approx(4 * 0.115 * 730)
    assert used.profile == "idle" and any("s/endpoint-churn" in x for x in used.overridden())
    usage.write_text("defaults: {gpu_hours: 3}\n")
    with pytest.raises(UsageError, match="unknown parameter"):
        load_usage("typical", usage)
    with pytest.raises(UsageError, match="idle, typical, peak"):
        load_usage("busy")


# ---------------------------------------------------------------- the catalogue

def test_catalogue_rows_have_source_date_unit_currency() -> None:
    rows = list(csv.DictReader(CATALOGUE.open(encoding="utf-8")))
    assert rows
    seen = set()
    for row in rows:
        where = f"{row['key']} ({row['region']})"
        assert (row["key"], row["region"]) not in seen, f"duplicate row {where}"
        seen.add((row["key"], row["region"]))
        for col in ("source", "unit", "currency", "how_obtained", "region"):
            assert row[col].strip(), f"{where}: empty {col}"
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date_read"]), f"{where}: date_read {row['date_read']!r}"
        assert float(row["price"]) > 0, f"{where}: a price of 0 is not a price"
        assert row["currency"] == "USD"
    assert len(load_catalogue().rows) == len(rows)


def test_catalogue_figures_match_the_shared_pricing_facts() -> None:
    """Every figure copied from ../shared/pricing-facts.md (the first figures found with their sources) is in it."""
    facts_path = ROOT.parent / "shared" / "pricing-facts.md"
    if not facts_path.exists():
        pytest.skip("../shared/pricing-facts.md not found (shared test data)")
    facts = facts_path.read_text(encoding="utf-8")
    copied = [r for r in csv.DictReader(CATALOGUE.open(encoding="utf-8")) if "pricing-facts.md" in r["how_obtained"]]
    assert copied
    for row in copied:
        price = float(row["price"])
        variants = {f"{price:g}", f"{price:.2f}", f"{price:.3f}", f"{price:.4f}", f"{price * 100:g}%"}
        assert any(v in facts for v in variants), f"{row['key']}: {price} is not in pricing-facts.md"



def test_catalogue_figures_not_from_the_facts_are_pinned_to_what_was_read() -> None:
    """A figure read later (not copied from pricing-facts.md) names the public file or page it was read in: a
    repository file pinned to a commit, or a vendor URL; a dated source; and how it was read (the search tool)."""
    later = [r for r in csv.DictReader(CATALOGUE.open(encoding="utf-8")) if "pricing-facts.md" not in r["how_obtained"]]
    assert later
    for row in later:
        where = f"{row['key']} ({row['region']})"
        assert row["how_obtained"].startswith("search tool:"), where
        assert re.search(r"https://github\.com/[\w.-]+/[\w.-]+ \(.+ at commit [0-9a-f]{12}\)", row["source"]) \
            or row["source"].startswith("https://"), f"{where}: source {row['source']!r} names no file or page"
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", row["source_date"]), f"{where}: undated source"
        assert row["source_title"], f"{where}: no title saying which entry of the source"
        assert row["region"] != "global" or "global" in row["source_title"].lower(), where


def test_regional_rows_come_from_their_region() -> None:
    """A regional figure read from a per-region source names that region in its source entry (no copying of a
    us-east-1 figure to another region)."""
    for row in csv.DictReader(CATALOGUE.open(encoding="utf-8")):
        if row["region"] != "global" and row["how_obtained"].startswith("search tool:") and "golden" not in row["source"]:
            assert row["region"].lower() in row["source_title"].lower(), f"{row['key']} ({row['region']}): {row['source_title']}"


# ---------------------------------------------------------------- every example on every cloud

def test_every_emitted_type_has_a_class(example_stacks: dict[str, dict]) -> None:
    missing: dict[str, set[str]] = {}
    for key, doc in example_stacks.items():
        for tf_type, items in doc.get("resource", {}).items():
            for body in items.values():
                if resource_class(tf_type, body) is None:
                    what = f"azapi_resource {azapi_type(body)}" if tf_type == "azapi_resource" else tf_type
                    missing.setdefault(what, set()).add(key)
    assert not missing, f"types without a cost class (add them to cost/classes.py): {missing}"
    priced = {t for t, (cls, _) in CLASSES.items() if cls == "priced"}
    assert priced == set(EXTRACTORS), "every priced type has an extractor, and only those"
    assert all(cls in ("priced", "free", "unpriced") and reason for cls, reason in [*CLASSES.values(), *AZAPI_CLASSES.values()])


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_invariants_on_every_example(examples_out: dict[str, Path], profile: str) -> None:
    """fixed <= estimate <= ceiling per component, resource and stack; every example on all clouds."""
    clouds = set()
    for out in examples_out.values():
        stacks, _ = analyse(out, profile=profile)
        for s in stacks:
            clouds.add(s.cloud)
            assert not [r.address for r in s.resources if r.cls == "unclassified"]
            for r in s.resources:
                for c in r.components:
                    assert 0 <= c.line.fixed <= c.line.estimate <= c.line.ceiling, (r.address, c.line)
                assert r.total("fixed") <= r.total("monthly") + 1e-9 <= r.total("ceiling") + 2e-9, r.address
            assert s.total("fixed") <= s.total("monthly") + 1e-6 <= s.total("ceiling") + 2e-6, s.name
    assert clouds == {"aws", "azure", "gcp"}


def test_cli_on_every_example_in_every_format(examples_out: dict[str, Path]) -> None:
    runner = CliRunner()
    for example, out in sorted(examples_out.items()):
        n = len(list(out.glob("stacks/*/cdk.tf.json")))
        start = time.perf_counter()
        table = runner.invoke(app, ["cost", "--out", str(out)])
        assert table.exit_code == 0, table.output
        assert time.perf_counter() - start < n * 1.0, f"{example}: slower than 1 s per stack"
        doc = json.loads(runner.invoke(app, ["cost", "--out", str(out), "--format", "json", "--profile", "peak"]).stdout)
        assert len(doc["projects"]) == n and doc["profile"] == "peak"
        for project in doc["projects"]:
            for res in project["breakdown"]["resources"]:
                assert {"name", "monthlyCost", "costComponents"} <= set(res)
                for comp in res["costComponents"]:
                    assert {"name", "unit", "monthlyQuantity", "price", "monthlyCost", "priceSource"} <= set(comp)
                    assert (comp["price"] is None) == (comp["priceSource"] is None) == (comp["monthlyCost"] is None)
        md = runner.invoke(app, ["cost", "--out", str(out), "--format", "markdown"])
        assert md.exit_code == 0 and md.stdout.startswith("## Cost estimate")
        assert runner.invoke(app, ["cost", "--out", str(out), "--format", "json"]).stdout == \
            runner.invoke(app, ["cost", "--out", str(out), "--format", "json"]).stdout


def test_reference_prices_the_big_lines(examples_out: dict[str, Path]) -> None:
    """The reference AWS stack: MWAA, the us-east-1 endpoint (2 x ml.m5.large) and 17 interface endpoints."""
    stacks, _ = analyse(examples_out["reference"])
    aws = next(s for s in stacks if s.cloud == "aws")
    lines = {(r.tf_type, c.line.region, c.line.name): c for r in aws.resources for c in r.components if c.price is not None}
    assert lines[("aws_sagemaker_endpoint", "us-east-1", "Instance usage (ml.m5.large)")].fixed == pytest.approx(167.90)
    assert lines[("aws_mwaa_environment", "us-east-1", "Environment (mw1.small)")].fixed == pytest.approx(0.49 * 730)
    interface = [c for (t, _, n), c in lines.items() if t == "aws_vpc_endpoint" and n.startswith("Interface")]
    assert interface and all(c.fixed == pytest.approx(2 * 0.01 * 730) for c in interface)
    assert any(a.title == "Idle Airflow environment" and a.saving == pytest.approx(357.70) for a in aws.advice)
    west = [c for r in aws.resources for c in r.components if c.line.region == "us-west-2" and c.line.key.startswith("aws.sagemaker.hosting")]
    assert west and all(c.price is None for c in west), "us-west-2 must stay unpriced without a us-west-2 row"


def test_reference_azure_and_gcp_price_their_serving_and_pools(examples_out: dict[str, Path]) -> None:
    """Azure online deployments are priced at their VM size in their region; a GKE G2 pool is one priced node line
    (the G2 price includes its L4) with no second GPU line."""
    stacks, _ = analyse(examples_out["reference"])
    azure = next(s for s in stacks if s.cloud == "azure")
    deploys = [c for r in azure.resources if r.tf_type == "azapi_resource" for c in r.components]
    assert {c.line.region for c in deploys} == {"westeurope", "northeurope"}
    for c in deploys:
        assert c.line.key == "azure.vm.Standard_DS3_v2" and c.price is not None
        assert c.price.price == {"westeurope": 0.272, "northeurope": 0.263}[c.line.region]
        assert c.fixed == pytest.approx(c.line.fixed * c.price.price) and c.line.fixed >= 730
    gcp = next(s for s in stacks if s.cloud == "gcp")
    pools = [r for r in gcp.resources if r.tf_type == "google_container_node_pool"]
    g2 = [c for r in pools for c in r.components if c.line.key.startswith("gcp.gce.g2-")]
    assert g2 and all(c.price is not None and "includes its attached L4" in c.line.note for c in g2)
    assert not [c for r in pools for c in r.components if c.line.key.startswith("gcp.gpu.")]


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = runner.invoke(app, ["cost", "--out", str(tmp_path)])
    assert empty.exit_code == 1 and "no synthesized stacks" in empty.output and "Traceback" not in empty.output
    _write(tmp_path, {"s": _endpoint_stack()})
    bad = runner.invoke(app, ["cost", "--out", str(tmp_path), "--profile", "busy"])
    assert bad.exit_code == 1 and "use one of idle, typical, peak" in bad.output
    fmt = runner.invoke(app, ["cost", "--out", str(tmp_path), "--format", "xml"])
    assert fmt.exit_code == 1 and "table, json or markdown" in fmt.output


def test_cost_markdown_of_one_stack_dir(examples_out: dict[str, Path]) -> None:
    for d in sorted(examples_out["reference"].glob("stacks/*")):
        text = cost_markdown(d)
        assert text.startswith(f"## Cost of {d.name}") and "Assumptions" in text
        assert analyse_dir(d, load_usage(), load_catalogue()).name == d.name


# ---------------------------------------------------------------- Cloud SQL, Cloud Run, DynamoDB

def _gcp_doc(tf_type: str, bodies: dict[str, dict]) -> dict:
    return {"provider": {"google": [{"project": "p"}]}, "resource": {tf_type: bodies}}


def _sql_body(tier: str, availability: str, **settings: object) -> dict:
    return {"//": {"metadata": {"path": f"s/db-{tier}-{availability}"}}, "database_version": "POSTGRES_18",
            "region": "us-central1", "settings": {"tier": tier, "edition": "ENTERPRISE", "availability_type": availability,
                                                  "disk_type": "PD_SSD", **settings}}


def test_cloud_sql_custom_tier_regional_bills_primary_and_standby(tmp_path: Path) -> None:
    """db-custom-2-7680 is 2 vCPUs and 7680 MiB = 7.5 GiB; REGIONAL bills both copies, disk included:
    2 x (2 x 730 x 0.0413 + 7.5 x 730 x 0.007) + 2 x 100 GB x 0.17 fixed, plus 50 GB of backups x 0.08.
    Infracost's golden prints the same instance at $120.60 (vCPUs) and $76.65 (memory)."""
    doc = _gcp_doc("google_sql_database_instance", {
        "ha": _sql_body("db-custom-2-7680", "REGIONAL", disk_size=100, disk_autoresize=False,
                        backup_configuration={"enabled": True}),
        "zonal": _sql_body("db-custom-2-7680", "ZONAL", disk_size=100, disk_autoresize=False),
        "grows": _sql_body("db-custom-1-3840", "ZONAL", disk_autoresize=True, disk_autoresize_limit=50),
        "plus": {**_sql_body("db-custom-2-7680", "ZONAL"), "settings": {"tier": "db-custom-2-7680", "edition": "ENTERPRISE_PLUS"}},
    })
    out = _write(tmp_path, {"s": doc})
    usage = tmp_path / "usage.yaml"
    usage.write_text("profile: typical\ndefaults: {database_backup_gb: 50, database_gb: 20}\n")
    (stack,), _ = analyse(out, usage_file=usage)
    res = {r.address.split(".")[1]: r for r in stack.resources}
    ha = {c.line.key: c for c in res["ha"].components}
    assert ha["gcp.cloudsql.postgres.vcpu"].line.fixed == 2 * 2 * 730
    assert ha["gcp.cloudsql.postgres.memory"].line.fixed == pytest.approx(2 * 7.5 * 730)
    assert round(ha["gcp.cloudsql.postgres.vcpu"].fixed, 2) == 120.60
    assert round(ha["gcp.cloudsql.postgres.memory"].fixed, 2) == 76.65
    fixed = 2 * (2 * 730 * 0.0413 + 7.5 * 730 * 0.007) + 2 * 100 * 0.17
    assert res["ha"].total("fixed") == pytest.approx(fixed)
    assert res["ha"].total("monthly") == pytest.approx(fixed + 50 * 0.08) == res["ha"].total("ceiling")
    assert res["zonal"].total("fixed") == pytest.approx(2 * 730 * 0.0413 + 7.5 * 730 * 0.007 + 100 * 0.17)
    assert not [c for c in res["zonal"].components if c.line.key == "gcp.cloudsql.backup"], "no backups configured"
    disk = next(c for c in res["grows"].components if c.line.key == "gcp.cloudsql.ssd")
    assert (disk.line.fixed, disk.line.estimate, disk.line.ceiling) == (10, 20, 50), "10 GB unset, grows to 20, limit 50"
    plus = [c for c in res["plus"].components if "postgres" in c.line.key]
    assert plus and all(c.price is None and "enterprise_plus" in c.line.key for c in plus), "Enterprise Plus has no row"


def test_cloud_run_request_billing_matches_infracost_golden(tmp_path: Path) -> None:
    """Infracost's cloud_run_v2_service golden (europe-west3): 1,800,000 vCPU-seconds $60.48, 900,000 GiB-seconds
    $3.15, 500,000 requests $0.20. One 1 vCPU / 512Mi container busy 500 h (x 3600 s) is those quantities."""
    run = {"location": "europe-west3", "template": {
        "scaling": {"min_instance_count": 0, "max_instance_count": 2},
        "containers": [{"ports": {"container_port": 8080},
                        "resources": {"cpu_idle": True, "limits": {"cpu": "1000m", "memory": "512Mi"}}}]}}
    warm = {"location": "europe-west3", "template": {
        "scaling": {"min_instance_count": 1, "max_instance_count": 1},
        "containers": [{"ports": {"container_port": 8080}, "resources": {"cpu_idle": True, "limits": {"cpu": "1", "memory": "1Gi"}}},
                       {"resources": {"limits": {"cpu": "1", "memory": "512Mi"}}}]}}
    out = _write(tmp_path, {"s": _gcp_doc("google_cloud_run_v2_service", {"run": run, "warm": warm})})
    usage = tmp_path / "usage.yaml"
    usage.write_text("profile: typical\ndefaults: {service_busy_hours: 500, service_requests_millions: 0.5}\n")
    (stack,), _ = analyse(out, usage_file=usage)
    res = {r.address.split(".")[1]: r for r in stack.resources}
    lines = {c.line.key: c for c in res["run"].components}
    assert lines["gcp.run.request.cpu"].line.estimate == 1_800_000 and round(lines["gcp.run.request.cpu"].monthly, 2) == 60.48
    assert lines["gcp.run.request.memory"].line.estimate == 900_000 and round(lines["gcp.run.request.memory"].monthly, 2) == 3.15
    assert lines["gcp.run.requests"].line.estimate == 500_000 and round(lines["gcp.run.requests"].monthly, 2) == 0.20
    assert res["run"].total("fixed") == 0, "scale to zero: nothing fixed"
    assert lines["gcp.run.request.cpu"].line.ceiling == 2 * 730 * 3600
    # A warm instance with a sidecar: 2 vCPU and 1.5 GiB all month fixed; no room above min, so busy hours add nothing.
    warm_lines = {c.line.key: c for c in res["warm"].components}
    assert warm_lines["gcp.run.request.cpu"].fixed == pytest.approx(2 * 730 * 3600 * 0.0000336)
    assert warm_lines["gcp.run.request.memory"].fixed == pytest.approx(1.5 * 730 * 3600 * 0.0000035)
    assert warm_lines["gcp.run.request.cpu"].line.estimate == warm_lines["gcp.run.request.cpu"].line.fixed
    assert "capped at max instances" in warm_lines["gcp.run.request.cpu"].line.note


def test_dynamodb_on_demand_table(tmp_path: Path) -> None:
    """Infracost's us-east-1 golden: 100,002 GB of data storage $25,000.50 and PITR on it 0.20/GB-month. Request
    units have no sourced price: reported with their quantity, unpriced, never 0."""
    doc = {"provider": {"aws": [{"region": "us-east-1"}]}, "resource": {"aws_dynamodb_table": {"lock": {
        "billing_mode": "PAY_PER_REQUEST", "point_in_time_recovery": {"enabled": True}}}}}
    out = _write(tmp_path, {"s": doc})
    usage = tmp_path / "usage.yaml"
    usage.write_text("profile: typical\ndefaults: {table_storage_gb: 100002, table_write_millions: 3, table_read_millions: 8}\n")
    (stack,), _ = analyse(out, usage_file=usage)
    (table,) = stack.resources
    lines = {c.line.key: c for c in table.components}
    assert lines["aws.dynamodb.storage"].monthly == pytest.approx(25_000.50)
    assert lines["aws.dynamodb.pitr"].monthly == pytest.approx(100_002 * 0.20)
    assert lines["aws.dynamodb.wru"].line.estimate == 3_000_000 and lines["aws.dynamodb.wru"].price is None
    assert lines["aws.dynamodb.rru"].line.estimate == 8_000_000 and lines["aws.dynamodb.rru"].price is None
    assert table.total("fixed") == 0 and not stack.complete


def test_reference_gcp_prices_the_mlflow_database(examples_out: dict[str, Path]) -> None:
    """The reference GCP MLflow database (db-custom-1-3840, REGIONAL, us-central1) is priced; its Cloud Run service
    (us-central1, no sourced price) and the data-versioning lock tables (eu-west-1) keep their quantities, unpriced."""
    stacks, _ = analyse(examples_out["reference"])
    gcp = next(s for s in stacks if s.cloud == "gcp")
    (db,) = [r for r in gcp.resources if r.tf_type == "google_sql_database_instance"]
    assert db.cls == "priced" and not db.unpriced
    assert db.total("fixed") == pytest.approx(2 * (730 * 0.0413 + 3.75 * 730 * 0.007) + 2 * 10 * 0.17)
    (run,) = [r for r in gcp.resources if r.tf_type == "google_cloud_run_v2_service"]
    cpu = next(c for c in run.components if c.line.key == "gcp.run.request.cpu")
    assert cpu.price is None and "europe-west3" in cpu.unpriced_reason
    assert cpu.line.fixed == 0 and cpu.line.ceiling == 3 * 730 * 3600 * 2, "max 3 instances x (mlflow 1 + proxy 1 vCPU)"
    dv, _ = analyse(examples_out["data-versioning"])
    tables = [r for s in dv for r in s.resources if r.tf_type == "aws_dynamodb_table"]
    assert tables and all(r.cls == "priced" and r.components and len(r.unpriced) == len(r.components) for r in tables)
