"""``cdktf-mlops dvc``: the ``.dvc/config`` remotes of a stack's stores, from its outputs.

Every platform stack outputs ``store_<store>_dvc`` = ``{url, settings}`` (see
:data:`~constructs_lib.core.contract.OUTPUTS`): the store's DVC remote in the URL scheme of the
cloud's DVC plugin (``s3://``, ``azure://``, ``gs://``) and the remote settings that plugin needs.
Credentials are never part of it: dvc-s3, dvc-azure and dvc-gs take them from the environment
(OIDC web identity or an instance role, workload or managed identity, Application Default
Credentials).

Two sources, both read offline:

* the synthesized stack (``<outdir>/stacks/<stack>/cdk.tf.json``): output values hold Terraform
  references (``${aws_s3_bucket.data_1234.id}``), resolved here to the literal attributes of the
  referenced resources (bucket, storage account and table names are literals in the stack). An AWS
  account id comes from the stack's ``aws`` provider (``allowed_account_ids``, set by the spec's
  ``aws.account_id``) or ``account_id=``. What is only known after apply (an AWS KMS key ARN) is
  left out with a comment saying what happens instead: without ``sse_kms_key_id`` the snippet
  also leaves out ``sse`` (S3 would otherwise use the ``aws/s3`` key), and the bucket's default
  encryption (SSE-KMS with the store's key) applies to what DVC uploads;
* ``terraform output -json`` of the deployed stack (``tf_outputs=``): every value is known.

:func:`dvc_config` returns the snippet: one ``['remote "<store>"']`` section per store, in DVC's own
config format (``dvc remote add`` writes the same), to append to ``.dvc/config``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import MlopsError
from ._stacks import stack_dirs

__all__ = ["DvcConfigError", "Remote", "dvc_config", "remotes", "render"]

_OUTPUT = re.compile(r"^store_(?P<store>[a-z0-9_]+)_dvc$")
_TOKEN = re.compile(r"\$\{([^{}]+)\}")
#: ``(resource type, attribute)`` -> the argument that holds the same value before apply.
_SAME_AS = {("aws_s3_bucket", "id"): "bucket", ("aws_dynamodb_table", "id"): "name"}
#: Settings that only make sense together: dropping the first drops the others.
_TOGETHER = {"sse_kms_key_id": ("sse",)}


class DvcConfigError(MlopsError):
    """No stack or store to print, or an output that cannot be resolved."""


@dataclass(frozen=True)
class Remote:
    """One DVC remote: ``name`` (the store), ``url``, ``settings`` and ``notes`` (comment lines)."""

    name: str
    url: str
    settings: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _account_id(doc: Mapping[str, Any], account_id: str | None) -> str | None:
    if account_id:
        return account_id
    ids = {a for block in (doc.get("provider") or {}).get("aws") or [] for a in block.get("allowed_account_ids") or []}
    return ids.pop() if len(ids) == 1 else None


def _resolve(doc: Mapping[str, Any], text: str, account_id: str | None, depth: int = 0) -> str | None:
    """``text`` with every ``${...}`` reference replaced by its literal value, or None when one is unknown."""
    unknown = False

    def one(match: re.Match[str]) -> str:
        nonlocal unknown
        parts = match.group(1).split(".")
        value: Any = None
        if parts[0] == "data" and len(parts) == 4:
            if parts[1] == "aws_caller_identity" and parts[3] == "account_id":
                value = account_id
        elif len(parts) == 3:
            body = ((doc.get("resource") or {}).get(parts[0]) or {}).get(parts[1]) or {}
            value = body.get(_SAME_AS.get((parts[0], parts[2]), parts[2]))
        if isinstance(value, str) and depth < 5:
            value = _resolve(doc, value, account_id, depth + 1)
        if not isinstance(value, str):
            unknown = True
            return ""
        return value

    out = _TOKEN.sub(one, text)
    return None if unknown else out


def _remote(name: str, value: Mapping[str, Any], resolve: Any) -> Remote:
    url = resolve(value["url"])
    if url is None:
        raise DvcConfigError(
            f"store {name}: its DVC URL {value['url']} is only known after apply; pass the stack's "
            "`terraform output -json` (--tf-outputs) or, on AWS, the account id (--account-id)"
        )
    settings: dict[str, Any] = {}
    notes: list[str] = []
    dropped: set[str] = set()
    for key, raw in sorted(value.get("settings", {}).items()):
        literal = resolve(raw) if isinstance(raw, str) else raw
        if literal is None:
            dropped |= {key, *_TOGETHER.get(key, ())}
            together = ", ".join(sorted({key, *_TOGETHER.get(key, ())}))
            notes.append(f"{together}: {key} is known after apply ({raw}); pass --tf-outputs to include it")
        else:
            settings[key] = literal
    if "sse_kms_key_id" in dropped:
        notes.append("without it the bucket's default encryption (SSE-KMS with the store's key) applies")
    return Remote(name, url, {k: v for k, v in settings.items() if k not in dropped}, notes)


def _stack_docs(outdir: Path, stack: str | None) -> dict[str, dict[str, Any]]:
    docs = {d.name: json.loads((d / "cdk.tf.json").read_text()) for d in stack_dirs(outdir, DvcConfigError)}
    if stack is not None:
        if stack not in docs:
            raise DvcConfigError(f"{outdir}: no stack {stack!r}; stacks: {', '.join(docs)}")
        return {stack: docs[stack]}
    return docs


def remotes(
    outdir: str | Path = "cdktf.out",
    *,
    stack: str | None = None,
    store: str | None = None,
    account_id: str | None = None,
    tf_outputs: str | Path | None = None,
) -> list[Remote]:
    """The DVC remotes of one stack (``stack``, or the only stack of ``outdir`` with stores).

    ``store`` keeps that store only. ``tf_outputs`` is a ``terraform output -json`` file of the
    deployed stack: its values are used as they are (``outdir`` is then not read).
    """
    return _collect(Path(outdir), stack, store, account_id, tf_outputs)[1]


def _collect(
    outdir: Path, stack: str | None, store: str | None, account_id: str | None, tf_outputs: str | Path | None,
) -> tuple[str, list[Remote]]:
    """(where the remotes come from, the remotes): see :func:`remotes`."""
    if tf_outputs is not None:
        outputs = {k: v["value"] for k, v in json.loads(Path(tf_outputs).read_text()).items()}
        label, resolve = str(tf_outputs), (lambda v: v)
    else:
        docs = {n: d for n, d in _stack_docs(outdir, stack).items()
                if any(_OUTPUT.match(o) for o in d.get("output") or {})}
        if len(docs) != 1:
            raise DvcConfigError(
                f"{outdir}: " + (f"several stacks have stores ({', '.join(docs)}); choose one with --stack"
                                 if docs else "no stack outputs store_<store>_dvc")
            )
        label, doc = next(iter(docs.items()))
        account = _account_id(doc, account_id)
        outputs = {k: v["value"] for k, v in (doc.get("output") or {}).items()}
        resolve = (lambda v: _resolve(doc, v, account))  # noqa: E731
    found = {m["store"]: value for name, value in sorted(outputs.items()) if (m := _OUTPUT.match(name))}
    if store is not None:
        key = store.replace("-", "_")
        if key not in found:
            raise DvcConfigError(f"{label}: no store {store!r}; stores: {', '.join(found) or 'none'}")
        found = {key: found[key]}
    if not found:
        raise DvcConfigError(f"{label}: no store_<store>_dvc output")
    return label, [_remote(name.replace("_", "-"), value, resolve) for name, value in found.items()]


def _ini(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def render(items: list[Remote], *, source: str = "") -> str:
    """The ``.dvc/config`` text of ``items`` (DVC's config format: ``['remote "<name>"']`` sections)."""
    lines = [f"# DVC remotes of {source} (cdktf-mlops dvc); credentials come from the environment" if source
             else "# DVC remotes (cdktf-mlops dvc); credentials come from the environment"]
    for remote in items:
        lines.append(f"['remote \"{remote.name}\"']")
        lines.append(f"    url = {remote.url}")
        lines += [f"    {key} = {_ini(value)}" for key, value in remote.settings.items()]
        lines += [f"    # {note}" for note in remote.notes]
    return "\n".join(lines) + "\n"


def dvc_config(
    outdir: str | Path = "cdktf.out",
    *,
    stack: str | None = None,
    store: str | None = None,
    account_id: str | None = None,
    tf_outputs: str | Path | None = None,
) -> str:
    """:func:`remotes` rendered as a ``.dvc/config`` snippet (see the module docstring)."""
    label, items = _collect(Path(outdir), stack, store, account_id, tf_outputs)
    source = Path(label).name if tf_outputs is not None else f"stack {label}"
    return render(items, source=source)
