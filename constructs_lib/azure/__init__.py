"""Azure constructs of cdktf-mlops (azurerm and azapi providers). Importing this package loads no other cloud."""

from __future__ import annotations

from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .keys import Key, KeyProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .storage import DataStore, DataStoreProps, Recovery
from .tracking import Tracking, TrackingProps, Workspace, WorkspaceProps
from .training import Training, TrainingProps
from .pipelines import Pipeline, PipelineProps
from .retraining import Retraining, RetrainingProps

__all__ = [
    "Budget",
    "BudgetProps",
    "ContainerRegistry",
    "ContainerRegistryProps",
    "DataStore",
    "DataStoreProps",
    "Endpoint",
    "EndpointProps",
    "FeatureStore",
    "FeatureStoreProps",
    "Key",
    "KeyProps",
    "ModelRegistry",
    "ModelRegistryProps",
    "Monitoring",
    "MonitoringProps",
    "Network",
    "NetworkProps",
    "Pipeline",
    "PipelineProps",
    "Recovery",
    "Retraining",
    "RetrainingProps",
    "Routing",
    "RoutingProps",
    "Tracking",
    "TrackingProps",
    "Training",
    "TrainingProps",
    "Workspace",
    "WorkspaceProps",
]
