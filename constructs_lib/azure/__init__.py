"""Azure constructs of cdktf-mlops (azurerm and azapi providers). Importing this package loads no other cloud."""

from __future__ import annotations

from .features import FeatureStore, FeatureStoreProps
from .keys import Key, KeyProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .storage import DataStore, DataStoreProps, Recovery
from .tracking import Tracking, TrackingProps, Workspace, WorkspaceProps
from .training import Training, TrainingProps

__all__ = [
    "ContainerRegistry",
    "ContainerRegistryProps",
    "DataStore",
    "DataStoreProps",
    "FeatureStore",
    "FeatureStoreProps",
    "Key",
    "KeyProps",
    "ModelRegistry",
    "ModelRegistryProps",
    "Network",
    "NetworkProps",
    "Recovery",
    "Tracking",
    "TrackingProps",
    "Training",
    "TrainingProps",
    "Workspace",
    "WorkspaceProps",
]
