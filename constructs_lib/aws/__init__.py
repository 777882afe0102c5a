"""AWS constructs of cdktf-mlops.

Importing this package loads no Azure or GCP code and no prebuilt provider package.
"""

from __future__ import annotations

from ..core.props import DataStoreProps
from .features import FeatureStore, FeatureStoreProps
from .keys import Key, KeyProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .storage import DataStore, Recovery
from .tracking import Tracking, TrackingProps
from .training import MachineSpec, Training, TrainingProps

__all__ = [
    "ContainerRegistry",
    "ContainerRegistryProps",
    "DataStore",
    "DataStoreProps",
    "FeatureStore",
    "FeatureStoreProps",
    "Key",
    "KeyProps",
    "MachineSpec",
    "ModelRegistry",
    "ModelRegistryProps",
    "Network",
    "NetworkProps",
    "Recovery",
    "Tracking",
    "TrackingProps",
    "Training",
    "TrainingProps",
]
