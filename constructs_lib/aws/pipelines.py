"""A SageMaker pipeline with its own least-privilege execution role.

What ``Pipeline`` builds, with every default:

* an ``aws_sagemaker_pipeline`` (the construct's ``resource``) named ``props.name`` (also its display
  name), whose definition is ``props.definition`` or, when that is ``None``, a **placeholder**: a
  valid SageMaker pipeline definition (format ``2020-12-01``) with a single ``Fail`` step that ends
  the execution with a message saying the pipeline has not been published yet. A ``Fail`` step
  needs no container image, no compute and no permission, so the infrastructure can be deployed
  before the ML code exists; the team's CI replaces the definition later (``UpdatePipeline``);
* ``props.parameters`` become the definition's ``String`` parameters with those default values
  (in a given definition: the default of a declared parameter is replaced, an undeclared one is
  added), so triggers that pass no parameters run with them;
* an execution role (the construct's ``principal``) that only SageMaker of this account may assume,
  allowed to read and write the artifacts store (the store's own ``grant_read`` / ``grant_write``:
  the bucket's objects and its key through S3) and nothing else. Steps that start training or
  processing jobs need more: grant it from the constructs that own those resources.

Encryption: a SageMaker pipeline stores no data of its own; what it produces lives in the
artifacts store and is encrypted with that store's customer-managed key. ``props.encryption`` is
therefore not used on AWS (no extra key is created for an empty pipeline).

``grant_start(principal)`` lets an IAM role call ``sagemaker:StartPipelineExecution`` on this
pipeline and nothing else; the retraining triggers use it for their own roles.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from ..core import engine
from ..core.automation_props import PipelineProps
from ..core.construct import MlopsConstruct
from ..core.errors import ConstructError
from ..core.resource import Resource
from . import _iam
from ._iam import Principal, allow, grant_id, ref
from .storage import DataStore

__all__ = ["PIPELINE_DEFINITION_VERSION", "Pipeline", "PipelineProps", "placeholder_definition"]

#: The SageMaker pipeline definition format version.
PIPELINE_DEFINITION_VERSION = "2020-12-01"
#: Name of the single step of the placeholder definition.
PLACEHOLDER_STEP = "NotPublishedYet"


def placeholder_definition(name: str, parameters: dict[str, str] | None = None) -> dict[str, Any]:
    """A minimal valid SageMaker pipeline definition: ``parameters`` and one ``Fail`` step.

    The ``Fail`` step ends every execution with a message naming the pipeline: it proves the
    trigger wiring works without running anything billable.
    """
    return {
        "Version": PIPELINE_DEFINITION_VERSION,
        "Metadata": {},
        "Parameters": [
            {"Name": key, "Type": "String", "DefaultValue": value} for key, value in sorted((parameters or {}).items())
        ],
        "Steps": [
            {
                "Name": PLACEHOLDER_STEP,
                "Type": "Fail",
                "Arguments": {
                    "ErrorMessage": (
                        f"Pipeline {name} is a placeholder created by cdktf-mlops: publish the real "
                        "definition (UpdatePipeline) from the team's CI."
                    )
                },
            }
        ],
    }


def _with_defaults(definition: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """``definition`` (copied) with ``parameters`` as the defaults of its parameters."""
    out = copy.deepcopy(definition)
    if not parameters:
        return out
    declared = out.setdefault("Parameters", [])
    if not isinstance(declared, list):
        raise ConstructError(None, "definition: 'Parameters' must be a list of {Name, Type, DefaultValue}")
    by_name = {p.get("Name"): p for p in declared if isinstance(p, dict)}
    for key, value in sorted(parameters.items()):
        if key in by_name:
            by_name[key]["DefaultValue"] = value
        else:
            declared.append({"Name": key, "Type": "String", "DefaultValue": value})
    return out


class Pipeline(MlopsConstruct):
    """A SageMaker pipeline (placeholder until CI publishes the real one) and its execution role.

    Args:
        scope: parent construct.
        id: construct id.
        props: :class:`~constructs_lib.core.automation_props.PipelineProps`; ``name`` is the
            SageMaker pipeline name, ``definition`` the pipeline JSON as a dict (default: the
            placeholder of :func:`placeholder_definition`), ``parameters`` the parameter defaults.
        artifacts_store: the :class:`~.storage.DataStore` the pipeline reads and writes.
        provider: the ``aws`` provider. Defaults to the stack's default provider.

    Attributes:
        resource: the ``aws_sagemaker_pipeline``.
        definition: the definition written (a dict, parameters merged).
        pipeline_id: token of the pipeline name (the Terraform id of a SageMaker pipeline).
        pipeline_arn: token of the pipeline ARN; ``trigger_id`` the same (what starts a run:
            ``StartPipelineExecution`` on it).
        principal: the execution ``aws_iam_role`` (grants take it).
        principal_arn: its ARN token.
    """

    props_type = PipelineProps
    props: PipelineProps

    def __init__(
        self,
        scope: engine.Construct,
        id: str,
        props: PipelineProps,
        *,
        artifacts_store: DataStore,
        provider: engine.TerraformProvider | None = None,
    ) -> None:
        super().__init__(scope, id, props, provider=provider)
        if props.definition is None:
            definition = placeholder_definition(props.name, props.parameters)
        else:
            if not isinstance(props.definition.get("Steps"), list) or not props.definition["Steps"]:
                raise ConstructError(
                    self.node.path,
                    "definition must be SageMaker pipeline JSON with a non-empty "
                    "'Steps' list; leave definition unset for the placeholder"
                )
            definition = _with_defaults(props.definition, props.parameters)
            definition.setdefault("Version", PIPELINE_DEFINITION_VERSION)
        self.definition: dict[str, Any] = definition

        self.principal: Resource = _iam.service_role(
            self,
            "Role",
            name=f"{props.name}-pipeline"[:64],
            description=f"Execution role of SageMaker pipeline {props.name}",
            services=["sagemaker.amazonaws.com"],
            provider=provider,
        )
        self.principal_arn: str = ref(self.principal, "arn")
        artifacts_store.grant_read(self.principal)
        artifacts_store.grant_write(self.principal)

        self.resource: Resource = Resource(
            self,
            "Resource",
            "aws_sagemaker_pipeline",
            provider=provider,
            pipeline_name=props.name,
            pipeline_display_name=props.name,
            pipeline_description=(
                f"Placeholder pipeline {props.name} (replace its definition from CI)"
                if props.definition is None
                else f"ML pipeline {props.name}"
            ),
            role_arn=self.principal_arn,
            pipeline_definition=json.dumps(definition, sort_keys=True, separators=(",", ":")),
        )
        self.pipeline_id: str = ref(self.resource, "id")
        self.pipeline_arn: str = ref(self.resource, "arn")
        self.trigger_id: str | None = self.pipeline_arn

    def grant_start(self, principal: Principal) -> list[Resource]:
        """Let an IAM role start executions of this pipeline, and nothing else.

        One ``aws_iam_role_policy`` with exactly ``sagemaker:StartPipelineExecution`` on this
        pipeline's ARN, returned as a one-item list. Calling it twice for the same principal
        returns the same policy.
        """
        cid = grant_id("GrantStart", principal)
        return [self._once(
            cid,
            lambda: _iam.role_policy(
                self,
                cid,
                name=f"{self.props.name}-start-{cid[len('GrantStart'):]}",
                principal=principal,
                statements=[allow("StartThisPipeline", ["sagemaker:StartPipelineExecution"], self.pipeline_arn)],
                provider=self._provider,
            ),
        )]
