"""Failover, failback, restore and rollback steps of the DR plan: the cloud's CLI with the stack's names.

Every resource name in a command comes from the synthesized stack through
:meth:`~.dr.DrPlan.cite` (recorded, and checked by the tests); values only known at apply time are
shell variables set by the first command block. Placeholders the operator fills in are written
``<LIKE_THIS>``.
"""

from __future__ import annotations

import re

from .cite import DrPlan
from .model import SHELL_VARIABLES, Block, StackModel
from .section import Doc

__all__ = ["runbook"]


def _stores(plan: DrPlan) -> list[tuple[str, Block]]:
    m = plan.model
    out = []
    for key in sorted(k for k in m.outputs if re.fullmatch(r"store_.+_name", k)):
        block = m.ref(m.outputs[key])
        if block is not None:
            out.append((key[6:-5], block))
    return out


def _endpoints(plan: DrPlan) -> list[tuple[str, str, Block]]:
    """(endpoint, region, block) of every serving endpoint, from the ``serving_<x>`` outputs."""
    m = plan.model
    out = []
    for key, value in sorted(m.outputs.items()):
        if key.startswith("serving_") and isinstance(value, dict):
            for region, v in value.items():
                block = m.ref(v.get("id")) if isinstance(v, dict) else None
                if block is not None:
                    out.append((key[8:], region, block))
    return out


def _preamble(doc: Doc, commands: list[str]) -> None:
    text = "\n".join(commands)
    sets = [cmd for var, cmd in SHELL_VARIABLES.values() if "${" + var + "}" in text]
    doc.code("\n".join(sets + commands) if sets else text)


def _pair(m: StackModel) -> tuple[str, str]:
    primary = m.regions[0] if m.regions else "<PRIMARY_REGION>"
    secondary = m.regions[1] if len(m.regions) > 1 else "<SECONDARY_REGION>"
    return primary, secondary


# ---------------------------------------------------------------------------------------------
# AWS


def _aws(plan: DrPlan, doc: Doc) -> None:
    m = plan.model
    primary, secondary = _pair(m)
    over: list[str] = []
    back: list[str] = []
    checks = m.of_type("aws_route53_health_check")
    records = m.of_type("aws_route53_record")
    for rec in records:
        host = plan.cite(rec, "name")
        hc = m.ref(rec.body.get("health_check_id"))
        if host and hc and rec.body.get("set_identifier") == primary:
            alarm = plan.cite(hc, "cloudwatch_alarm_name")
            over += [f"# serving: Route 53 fails {host} over by itself when the primary health check fails",
                     f"aws cloudwatch describe-alarms --region {primary} --alarm-names {alarm} --query 'MetricAlarms[].StateValue'",
                     f"dig +short {host} CNAME",
                     "# force the failover when the check has not tripped (the primary answers but is wrong):",
                     f"HC=$(aws route53 list-health-checks --query \"HealthChecks[?CloudWatchAlarmConfiguration.AlarmName=='{alarm}' "
                     f"&& CloudWatchAlarmConfiguration.Region=='{primary}'].Id\" --output text)",
                     'aws route53 update-health-check --health-check-id "$HC" --inverted']
            back += [over[-2], 'aws route53 update-health-check --health-check-id "$HC" --no-inverted', f"dig +short {host} CNAME"]
    for ep, region, block in _endpoints(plan):
        if region != primary:
            name = plan.cite(block)
            over.append(f"aws sagemaker describe-endpoint --region {region} --endpoint-name {name} --query EndpointStatus")
    for store, block in _stores(plan):
        repl = [b for b in m.of_type("aws_s3_bucket_replication_configuration") if m.ref(b.body.get("bucket")) is block]
        rules = repl[0].body.get("rule", []) if repl else []
        dest = m.ref(rules[0].get("destination", {}).get("bucket")) if rules else None
        if dest is None:
            continue
        src, dst = plan.cite(block), plan.cite(dest)
        key = m.ref(rules[0].get("destination", {}).get("encryption_configuration", {}).get("replica_kms_key_id"))
        alias = next((b for b in m.of_type("aws_kms_alias") if key is not None and m.ref(b.body.get("target_key_id")) is key), None)
        over += [f"# store {store}: read and write the replica while {primary} is down (replication is one-way)",
                 f"aws s3 ls s3://{dst}/ --region {secondary}"]
        if alias is not None:
            over.append(f"aws kms describe-key --region {secondary} --key-id {plan.cite(alias)} --query KeyMetadata.KeyState")
        back += [f"# store {store}: copy what was written to the replica during the failover back, then check replication",
                 f"aws s3 sync s3://{dst}/ s3://{src}/ --source-region {secondary} --region {primary}",
                 f"aws s3api get-bucket-replication --bucket {src} --region {primary} --query 'ReplicationConfiguration.Rules[].Status'"]
    _steps(doc, over, back)
    restore, rollback = [], []
    for store, block in _stores(plan)[:1]:
        name = plan.cite(block)
        restore = [f"aws s3api list-object-versions --bucket {name} --prefix <KEY>",
                   f"aws s3api copy-object --bucket {name} --key <KEY> --copy-source \"{name}/<KEY>?versionId=<VERSION_ID>\""]
    group = m.ref((m.output("model_registry") or {}).get("id"))
    if group is not None:
        g = plan.cite(group)
        rollback += [f"aws sagemaker list-model-packages --model-package-group-name {g} --model-approval-status Approved "
                     "--sort-by CreationTime --sort-order Descending",
                     "aws sagemaker update-model-package --model-package-arn <BAD_VERSION_ARN> --model-approval-status Rejected"]
    for ep, region, block in _endpoints(plan):
        name = plan.cite(block)
        rollback += [f"aws sagemaker list-endpoint-configs --region {region} --name-contains {name} --sort-by CreationTime",
                     f"aws sagemaker update-endpoint --region {region} --endpoint-name {name} --endpoint-config-name <PREVIOUS_CONFIG> "
                     "--retain-all-variant-properties"]
    _repairs(doc, restore, rollback)


# ---------------------------------------------------------------------------------------------
# Azure


def _azure(plan: DrPlan, doc: Doc) -> None:
    m = plan.model
    primary, secondary = _pair(m)
    rg_block = next(iter(m.of_type("azurerm_resource_group")), None)
    rg = (m.name_of(rg_block) if rg_block else None) or "<RESOURCE_GROUP>"  # cited below, where a command uses it
    over: list[str] = []
    back: list[str] = []
    for profile in m.of_type("azurerm_traffic_manager_profile"):
        tm = plan.cite(profile)
        eps = [b for b in m.of_type("azurerm_traffic_manager_external_endpoint") if m.ref(b.body.get("profile_id")) is profile]
        first = next((plan.cite(b) for b in eps if b.body.get("priority") == 1), None)
        over += [f"# serving: Traffic Manager {tm} moves traffic by priority when the primary probe fails",
                 f"az network traffic-manager endpoint list --resource-group {rg} --profile-name {tm} --output table"]
        if first:
            over += ["# force the failover:",
                     f"az network traffic-manager endpoint update --resource-group {rg} --profile-name {tm} --name {first} "
                     "--type externalEndpoints --endpoint-status Disabled"]
            back.append(f"az network traffic-manager endpoint update --resource-group {rg} --profile-name {tm} --name {first} "
                        "--type externalEndpoints --endpoint-status Enabled")
    workspaces = {m.region_of(b): b for b in m.of_type("azurerm_machine_learning_workspace") if b.component.startswith("workspace")}
    for ep, region, block in _endpoints(plan):
        if region != primary and region in workspaces:
            over.append(f"az ml online-endpoint show --resource-group {rg} --workspace-name {plan.cite(workspaces[region])} "
                        f"--name {plan.cite(block)} --query provisioning_state")
    for store, block in _stores(plan):
        rec = m.output(f"store_{store}_recovery") or {}
        if not rec.get("replica_region"):
            continue  # no geo-replica: nothing to fail over to
        acct = plan.cite(block)
        over += [f"# store {store}: last sync to {secondary}; reads keep working from the secondary endpoint (RA-GZRS)",
                 f"az storage account show --resource-group {rg} --name {acct} --expand geoReplicationStats "
                 "--query '{primary:primaryLocation,secondary:secondaryLocation,lastSync:geoReplicationStats.lastSyncTime}'",
                 "# writes: fail the account over (what was written after lastSync is lost: that is the RPO)",
                 f"az storage account failover --resource-group {rg} --name {acct} --yes"]
        back += [f"# store {store}: after a failover the account is locally redundant in {secondary}; restore geo-redundancy, "
                 "then fail over again once it has synced",
                 f"az storage account update --resource-group {rg} --name {acct} --sku Standard_RAGZRS",
                 f"az storage account failover --resource-group {rg} --name {acct} --yes"]
    _steps(doc, over, back)
    restore, rollback = [], []
    for store, block in _stores(plan)[:1]:
        acct = plan.cite(block)
        container = next((b for b in m.of_type("azurerm_storage_container") if block in m.refs(b.body)), None)
        c = plan.cite(container) if container else "<CONTAINER>"
        restore = [f"az storage blob list --auth-mode login --account-name {acct} --container-name {c} --include dv --prefix <PATH>",
                   f"az storage blob undelete --auth-mode login --account-name {acct} --container-name {c} --name <PATH>"]
    registry = m.ref((m.output("model_registry") or {}).get("id"))
    if registry is not None:
        rollback.append(f"az ml model list --registry-name {plan.cite(registry)} --name <MODEL> --output table")
    for ep, region, block in _endpoints(plan):
        ws = workspaces.get(region)
        if ws is not None:
            rollback.append(f"az ml online-deployment update --resource-group {rg} --workspace-name {plan.cite(ws)} "
                            f"--endpoint-name {plan.cite(block)} --name main --set model=<PREVIOUS_MODEL_ID>")
    if rg_block is not None and any(f"--resource-group {rg} " in line for line in over + back + restore + rollback):
        plan.cite(rg_block)
    _repairs(doc, restore, rollback)


# ---------------------------------------------------------------------------------------------
# GCP


def _gcp(plan: DrPlan, doc: Doc) -> None:
    m = plan.model
    primary, secondary = _pair(m)
    over: list[str] = []
    back: list[str] = []
    endpoints = _endpoints(plan)
    for rec in m.of_type("google_dns_record_set"):
        zone = m.ref(rec.body.get("managed_zone"))
        host, z = plan.cite(rec, "name"), plan.cite(zone) if zone else None
        project = rec.body.get("project")
        second = next((b for e, r, b in endpoints if r == secondary), None)
        if not (host and z and second):
            continue
        first = next((b for e, r, b in endpoints if r == primary), None)
        over += [f"# serving: {host} sends all traffic to {primary} (weight 1) and none to {secondary} (weight 0); swap the weights",
                 f"SECONDARY=$(gcloud ai endpoints describe {plan.cite(second)} --project={project} --region={secondary} "
                 "--format='value(dedicatedEndpointDns)')"]
        if first is not None:
            over.append(f"PRIMARY=$(gcloud ai endpoints describe {plan.cite(first)} --project={project} --region={primary} "
                        "--format='value(dedicatedEndpointDns)')")
        over.append(f"gcloud dns record-sets update {host} --project={project} --zone={z} --type={rec.body.get('type')} "
                    f"--ttl={rec.body.get('ttl')} --routing-policy-type=WRR --routing-policy-data=\"0=$PRIMARY.;1=$SECONDARY.\"")
        back += ["# serving: put the synthesized weights back (the record is code)", "terraform apply",
                 f"gcloud dns record-sets describe {host} --project={project} --zone={z} --type={rec.body.get('type')}"]
    for store, block in _stores(plan):
        if not (m.output(f"store_{store}_recovery") or {}).get("replica_region"):
            continue
        name = plan.cite(block)
        over += [f"# store {store}: a dual-region bucket serves from {secondary} by itself",
                 f"gcloud storage buckets describe gs://{name} --format='value(location,rpo)'"]
    _steps(doc, over, back)
    restore, rollback = [], []
    for store, block in _stores(plan)[:1]:
        name = plan.cite(block)
        restore = [f"gcloud storage ls --all-versions gs://{name}/<PATH>",
                   f"gcloud storage cp gs://{name}/<PATH>#<GENERATION> gs://{name}/<PATH>",
                   f"gcloud storage restore gs://{name}/<PATH>#<GENERATION>  # a soft-deleted object"]
    for ep, region, block in endpoints:
        project = block.body.get("project") or "<PROJECT>"
        rollback += [f"gcloud ai endpoints describe {plan.cite(block)} --project={project} --region={region} --format='value(deployedModels)'",
                     f"gcloud ai endpoints deploy-model {plan.cite(block)} --project={project} --region={region} --model=<PREVIOUS_MODEL_ID> "
                     "--display-name=rollback --traffic-split=0=100"]
    _repairs(doc, restore, rollback)


# ---------------------------------------------------------------------------------------------


def _steps(doc: Doc, over: list[str], back: list[str]) -> None:
    doc.heading("Failover (loss of the primary region)")
    if over:
        doc.para("Run in order; each comment says what the next commands do.")
        _preamble(doc, over)
    else:
        doc.para("Nothing to fail over: the stack has no second region (region loss is not recoverable until the region returns).")
    doc.heading("Failback (the primary region is back)")
    if back:
        _preamble(doc, back)
    doc.items(["`terraform plan` on this stack shows no change (the configuration is as synthesized).",
               "Alarms are back to OK and the global hostname resolves to the primary again."])


def _repairs(doc: Doc, restore: list[str], rollback: list[str]) -> None:
    doc.heading("Restore a deleted or overwritten object")
    if restore:
        _preamble(doc, restore)
    else:
        doc.para("The stack has no store.")
    doc.heading("Roll back a bad model release")
    if rollback:
        doc.para("Reject the bad version in the registry, then serve the previous approved one.")
        _preamble(doc, rollback)
    else:
        doc.para("The stack serves no model.")


def runbook(plan: DrPlan, doc: Doc) -> None:
    """Append the cloud's failover, failback, restore and rollback steps to ``doc``."""
    {"aws": _aws, "azure": _azure, "gcp": _gcp}[plan.model.cloud](plan, doc)
