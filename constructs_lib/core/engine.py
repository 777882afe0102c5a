"""The one module that imports the CDK for Terraform engine.

Two engines are supported and produce the same JSON apart from the engine version string:

* ``cdktf`` (CDK for Terraform 0.21, what ``cdktf.json`` users have) — the default;
* ``cdktn`` (CDK Terrain 0.24, the maintained fork).

``CDKTF_MLOPS_ENGINE=cdktf|cdktn`` selects one explicitly. Without it, ``cdktf`` is used when it
is installed, otherwise ``cdktn``. Every other module of the library imports engine classes from
here, never from ``cdktf`` / ``cdktn`` directly.
"""

from __future__ import annotations

import importlib
import importlib.util
import os

__all__ = [
    "ENGINE",
    "ENGINE_VERSION",
    "App",
    "Aspects",
    "AzurermBackend",
    "Construct",
    "Fn",
    "GcsBackend",
    "IAspect",
    "IConstruct",
    "LocalBackend",
    "S3Backend",
    "TerraformDataSource",
    "TerraformElement",
    "TerraformOutput",
    "TerraformProvider",
    "TerraformResource",
    "TerraformStack",
    "TerraformVariable",
    "Token",
]

# jsii prints an end-of-life banner on Node 20 at every start; silence it for the running major
# version only (the runtime still warns about other unsupported versions).
_SILENCE = "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"
if not os.environ.get(_SILENCE):
    os.environ[_SILENCE] = "18,20"


def _choose() -> str:
    wanted = os.environ.get("CDKTF_MLOPS_ENGINE", "").strip().lower()
    if wanted:
        if wanted not in ("cdktf", "cdktn"):
            raise ImportError(
                f"CDKTF_MLOPS_ENGINE={wanted!r} is not supported: use 'cdktf' or 'cdktn'."
            )
        if importlib.util.find_spec(wanted) is None:
            hint = "pip install 'cdktf-mlops[cdktn]'" if wanted == "cdktn" else "pip install cdktf==0.21.0"
            raise ImportError(f"CDKTF_MLOPS_ENGINE={wanted} but {wanted} is not installed: {hint}")
        return wanted
    if importlib.util.find_spec("cdktf") is not None:
        return "cdktf"
    if importlib.util.find_spec("cdktn") is not None:
        return "cdktn"
    raise ImportError("Neither cdktf nor cdktn is installed: pip install cdktf==0.21.0")


ENGINE: str = _choose()
_mod = importlib.import_module(ENGINE)

from constructs import Construct, IConstruct  # noqa: E402

App = _mod.App
Aspects = _mod.Aspects
AzurermBackend = _mod.AzurermBackend
Fn = _mod.Fn
GcsBackend = _mod.GcsBackend
IAspect = _mod.IAspect
LocalBackend = _mod.LocalBackend
S3Backend = _mod.S3Backend
TerraformDataSource = _mod.TerraformDataSource
TerraformElement = _mod.TerraformElement
TerraformOutput = _mod.TerraformOutput
TerraformProvider = _mod.TerraformProvider
TerraformResource = _mod.TerraformResource
TerraformStack = _mod.TerraformStack
TerraformVariable = _mod.TerraformVariable
Token = _mod.Token


def _engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(ENGINE)
    except PackageNotFoundError:  # pragma: no cover - editable installs of the engine
        return "unknown"


ENGINE_VERSION: str = _engine_version()
