"""Azure constructs of cdktf-mlops (azurerm provider). Importing this package loads no other cloud."""

from __future__ import annotations

from .keys import Key, KeyProps
from .storage import DataStore, DataStoreProps, Recovery

__all__ = ["DataStore", "DataStoreProps", "Key", "KeyProps", "Recovery"]
