"""AWS constructs of cdktf-mlops.

Importing this package loads no Azure or GCP code and no prebuilt provider package.
"""

from __future__ import annotations

from ..core.props import DataStoreProps
from .budget import Budget, BudgetProps
from .features import FeatureStore, FeatureStoreProps
from .keys import Key, KeyProps
from .monitoring import Monitoring, MonitoringProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .routing import Routing, RoutingProps
from .serving import Endpoint, EndpointProps
from .storage import DataStore, Recovery
from .tracking import Tracking, TrackingProps
from .training import MachineSpec, Training, TrainingProps
from .pipelines import Pipeline, PipelineProps
from .retraining import Retraining, RetrainingProps
from .airflow import Airflow, AirflowProps

__all__ = [
    "Airflow",
    "AirflowProps",
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
    "MachineSpec",
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
]
