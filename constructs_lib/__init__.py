"""cdktf-mlops: typed ML platform constructs for CDK for Terraform on AWS, Azure and GCP.

Import a cloud's constructs from its package (``constructs_lib.aws``, ``constructs_lib.azure``,
``constructs_lib.gcp``); importing one never loads another. Cross-cutting helpers live here.
"""

from __future__ import annotations

from .core.acknowledge import Acknowledge
from .core.errors import MlopsError, SchemaValidationError, SpecError, SynthError
from .core.props import DataStoreProps, EncryptionProps, LifecycleProps, ReplicationProps
from .core.resource import DataSource, Provider, Resource
from .core.spec import PlatformSpec, load_spec
from .core.synth import synth_app
from .platform import synthesize
from .core.tags import Tags

__all__ = [
    "Acknowledge",
    "DataSource",
    "DataStoreProps",
    "EncryptionProps",
    "LifecycleProps",
    "MlopsError",
    "PlatformSpec",
    "Provider",
    "ReplicationProps",
    "Resource",
    "SchemaValidationError",
    "SpecError",
    "SynthError",
    "Tags",
    "load_spec",
    "synth_app",
    "synthesize",
]

__version__ = "0.1.0"
