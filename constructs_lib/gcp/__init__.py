"""GCP constructs of cdktf-mlops (provider ``hashicorp/google`` 8.x).

Importing this package loads no other cloud's code and no prebuilt provider package.
"""

from __future__ import annotations

from .features import FeatureStore, FeatureStoreProps
from .keys import Key, KeyProps
from .network import Network, NetworkProps
from .registry import ContainerRegistry, ContainerRegistryProps, ModelRegistry, ModelRegistryProps
from .storage import DataStore, DataStoreProps, Recovery
from .tracking import Tracking, TrackingProps
from .training import Accelerator, Training, TrainingProps

__all__ = [
    "Accelerator",
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
]
