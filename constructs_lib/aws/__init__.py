"""AWS constructs of cdktf-mlops.

Importing this package loads no Azure or GCP code and no prebuilt provider package.
"""

from __future__ import annotations

from ..core.props import DataStoreProps
from .keys import Key, KeyProps
from .storage import DataStore, Recovery

__all__ = ["DataStore", "DataStoreProps", "Key", "KeyProps", "Recovery"]
