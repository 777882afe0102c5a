"""The one platform plan: a :class:`PlatformSpec` becomes one stack on the chosen cloud.

``build_stack(app, spec)`` creates a :class:`PlatformStack`: its state backend, then the build
order below, the same on every cloud. Each step calls one factory of the chosen cloud's *kit*
(``constructs_lib.<cloud>.kit.Kit``, the only cloud module the plan imports; other clouds are never
loaded). A factory returns the construct(s) of one spec section, or ``None`` / an empty dict when
the cloud builds nothing for it; the plan sets them as the stack's attributes, where later steps
(and the user's own code) read them:

1. ``providers``  the cloud's providers (default region, aliases for other regions)
2. ``stores``     ``storage.stores``                      -> ``stack.stores``
3. ``network``    ``network`` (or a workload needing one)  -> ``stack.network``
4. ``training``   ``training``                            -> ``stack.training``
5. ``registries`` ``registry``                            -> ``stack.containers``, ``stack.models``
6. ``tracking``   ``tracking``                            -> ``stack.tracking``
7. ``features``   ``features``                            -> ``stack.features``
8. ``grants``     what the training identity may use (:func:`~.core.construct.grant_training`)
9. ``serving``    ``serving``                             -> ``stack.endpoints``
10. ``routing``   ``routing``                             -> ``stack.routing``
11. ``monitoring`` ``monitoring``                         -> ``stack.monitoring``
12. ``budget``    ``budget``                              -> ``stack.budget``
13. ``pipelines``, ``retraining``, ``airflow``             -> ``stack.pipelines``, ``stack.retraining``, ``stack.airflow``
14. outputs: :func:`~.core.contract.emit_outputs` (the output contract) plus the kit's
    ``cloud_outputs()`` (cloud-prefixed).

What is truly cloud-specific (the Azure ML workspace, AWS per-region providers and serving networks)
stays private to the kit. Adding a capability means one step here plus one factory per kit.

A construct rule or props check that fails while the stack is built is raised as a
:class:`~.core.errors.SpecError` naming the spec file and the spec field it comes from
(:mod:`.core.spec_fields`), not as the construct's own error.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterable
from typing import Any, Protocol

from .core import engine
from .core.contract import (
    AirflowLike,
    BudgetLike,
    CloudOutput,
    ContainerRegistryLike,
    DataStoreLike,
    EndpointLike,
    FeatureStoreLike,
    ModelRegistryLike,
    MonitoringLike,
    NetworkLike,
    PipelineLike,
    RoutingLike,
    StoreAccess,
    TrackingLike,
    TrainingLike,
    emit_outputs,
)
from .core.errors import ConstructError
from .core.spec import PlatformSpec, load_specs
from .core.spec_fields import spec_error
from .core.synth import Progress, SynthResult, synthesize_specs

__all__ = ["Kit", "PlatformStack", "build_stack", "synthesize"]


class Kit(Protocol):
    """One cloud's factories, one per step of the plan (``constructs_lib.<cloud>.kit.Kit``).

    ``Kit(stack, spec)`` keeps the stack and spec; each factory builds into the stack and reads what
    earlier steps set on it. A factory is called only when its spec section is present.
    """

    def __init__(self, stack: "PlatformStack", spec: PlatformSpec) -> None: ...
    def providers(self) -> None: ...
    def stores(self) -> dict[str, DataStoreLike]: ...
    def network(self) -> NetworkLike | None: ...
    def training(self) -> TrainingLike | None: ...
    def registries(self) -> tuple[ContainerRegistryLike | None, ModelRegistryLike | None]: ...
    def tracking(self) -> TrackingLike | None: ...
    def features(self) -> FeatureStoreLike | None: ...
    def grants(self) -> None: ...
    def serving(self) -> dict[str, dict[str, EndpointLike]]: ...
    def routing(self) -> dict[str, RoutingLike]: ...
    def monitoring(self) -> MonitoringLike | None: ...
    def budget(self) -> BudgetLike | None: ...
    def pipelines(self) -> dict[str, PipelineLike]: ...
    def retraining(self) -> Any: ...
    def airflow(self) -> AirflowLike | None: ...
    def cloud_outputs(self) -> list[CloudOutput]: ...
    def store_access(self) -> dict[str, StoreAccess]: ...


class PlatformStack(engine.TerraformStack):
    """The stack for one spec, with its constructs as attributes: the same names and kinds on every cloud.

    Each attribute is ``None`` (or empty) when the spec has no such section. Use them to extend the
    platform in your own app, e.g. ``stack.stores["data"].grant_read(my_role)`` or
    ``stack.endpoints["churn"]["eu-west-1"]``. The cloud's kit is ``stack.kit``.
    """

    def __init__(self, scope: engine.Construct, spec: PlatformSpec) -> None:
        super().__init__(scope, spec.name)
        self.spec = spec
        #: Store name -> the cloud's ``DataStore``.
        self.stores: dict[str, DataStoreLike] = {}
        #: The cloud's ``Network`` of the primary region when the spec needs one.
        self.network: NetworkLike | None = None
        #: ``Training`` (pools, execution identity) for ``training``.
        self.training: TrainingLike | None = None
        #: ``ContainerRegistry`` and ``ModelRegistry`` for ``registry``.
        self.containers: ContainerRegistryLike | None = None
        self.models: ModelRegistryLike | None = None
        #: ``Tracking`` for ``tracking``; ``FeatureStore`` for ``features``.
        self.tracking: TrackingLike | None = None
        self.features: FeatureStoreLike | None = None
        #: Endpoint name -> region -> the cloud's ``Endpoint``, for ``serving``.
        self.endpoints: dict[str, dict[str, EndpointLike]] = {}
        #: Endpoint name -> the ``Routing`` in front of it (one construct may serve several endpoints).
        self.routing: dict[str, RoutingLike] = {}
        #: ``Monitoring`` and ``Budget`` for those sections.
        self.monitoring: MonitoringLike | None = None
        self.budget: BudgetLike | None = None
        #: Pipeline name -> ``Pipeline``; ``Retraining`` triggers; ``Airflow`` (AWS, GCP).
        self.pipelines: dict[str, PipelineLike] = {}
        self.retraining: Any = None
        self.airflow: AirflowLike | None = None
        _backend(self, spec)
        self.kit: Kit = importlib.import_module(f"constructs_lib.{spec.cloud}.kit").Kit(self, spec)
        try:
            self._plan(spec, self.kit)
        except ConstructError as err:
            raise spec_error(spec, err) from None

    def _plan(self, spec: PlatformSpec, kit: Kit) -> None:
        """The build order (see the module docstring)."""
        kit.providers()
        self.stores = kit.stores()
        if spec.network_settings is not None:
            self.network = kit.network()
        if spec.training is not None:
            self.training = kit.training()
        if spec.registry is not None:
            self.containers, self.models = kit.registries()
        if spec.tracking is not None:
            self.tracking = kit.tracking()
        if spec.features is not None:
            self.features = kit.features()
        kit.grants()
        if spec.serving is not None:
            self.endpoints = kit.serving()
        if spec.routing is not None:
            self.routing = kit.routing()
        if spec.monitoring is not None:
            self.monitoring = kit.monitoring()
        if spec.budget is not None:
            self.budget = kit.budget()
        if spec.pipelines:
            self.pipelines = kit.pipelines()
        if spec.retraining is not None:
            self.retraining = kit.retraining()
        if spec.airflow is not None:
            self.airflow = kit.airflow()
        emit_outputs(self, kit.cloud_outputs(), kit.store_access())


def _backend(stack: engine.TerraformStack, spec: PlatformSpec) -> None:
    """The state backend of ``spec``: remote (encrypted, locked) when `state` is set, else local."""
    state = spec.state
    if state is None:
        # A relative path keeps the output machine-independent.
        engine.LocalBackend(stack, path=f"terraform.{spec.name}.tfstate")
        return
    region = state.region or spec.primary_region
    if spec.cloud == "aws":
        backend = engine.S3Backend(stack, bucket=spec.state_name, key=spec.state_key, region=region, encrypt=True)
        # S3-native locking (Terraform >= 1.10); set as an override so cdktf and cdktn emit it alike.
        backend.add_override("use_lockfile", True)
    elif spec.cloud == "azure":
        assert spec.azure is not None
        engine.AzurermBackend(
            stack,
            storage_account_name=spec.state_name,
            container_name=state.container,
            key=spec.state_key,
            resource_group_name=state.resource_group or spec.azure.resource_group,
            use_azuread_auth=True,
        )
    else:
        engine.GcsBackend(stack, bucket=spec.state_name, prefix=spec.state_key.rsplit("/", 1)[0])


def build_stack(app: engine.App, spec: PlatformSpec) -> PlatformStack:
    """Add the stack for ``spec`` to ``app`` and return it."""
    return PlatformStack(app, spec)


def synthesize(
    paths: Iterable[str | os.PathLike[str]] = ("examples/reference",),
    *,
    outdir: str | os.PathLike[str] = "cdktf.out",
    hcl: bool = False,
    progress: Progress | None = None,
) -> SynthResult:
    """Read the spec files in ``paths``, build one stack per spec and synthesize them into ``outdir``.

    The output is written to a temporary sibling folder and renamed over ``outdir`` only when
    every stack validated and synthesized; on any error ``outdir`` is left as it was.
    """
    start = time.perf_counter()
    say = progress or (lambda _msg: None)
    say("reading specs")
    specs = load_specs(paths)
    return synthesize_specs(specs, build_stack, outdir=outdir, hcl=hcl, progress=progress, started=start)
