"""GCP constructs of cdktf-mlops (provider ``hashicorp/google`` 8.x).

Importing this package loads no other cloud's code and no prebuilt provider package.
"""

from __future__ import annotations

from .keys import Key, KeyProps
from .storage import DataStore, DataStoreProps, Recovery

__all__ = ["DataStore", "DataStoreProps", "Key", "KeyProps", "Recovery"]
