"""Naming, tags/labels and acknowledgements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from constructs_lib.core import engine
from constructs_lib.core.acknowledge import Acknowledge
from constructs_lib.core.naming import bucket_name, compact_name
from constructs_lib.core.tags import Tags, gcp_labels


@given(st.lists(st.text(alphabet="abcXYZ-_.09 ", min_size=1, max_size=30), min_size=1, max_size=4))
def test_bucket_names_follow_rules(parts: list[str]) -> None:
    try:
        name = bucket_name(*parts)
    except ValueError:
        return
    assert 3 <= len(name) <= 63
    assert all(c.islower() or c.isdigit() or c == "-" for c in name)
    assert bucket_name(*parts) == name  # deterministic


def test_long_names_keep_distinct_with_hash() -> None:
    a = bucket_name("x" * 80, "a")
    b = bucket_name("x" * 80, "b")
    assert len(a) == 63 and a != b
    c = compact_name("reference-azure", "prod", "artifacts")
    assert len(c) <= 24 and c.isalnum() and c != compact_name("reference-azure", "prod", "artifactz")


def test_gcp_labels_are_normalised_and_collisions_refused() -> None:
    assert gcp_labels({"Cost Center": "A/B", "9x": "v"}) == {"cost_center": "a_b", "l_9x": "v"}
    with pytest.raises(ValueError, match="same GCP label"):
        gcp_labels({"Team": "a", "team": "b"})


def test_tags_and_acknowledgements_inherit_nearest_wins() -> None:
    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    child = engine.Construct(stack, "c")
    Tags.of(stack).add_all({"team": "ml", "env": "dev"})
    Tags.of(child).add("env", "prod")
    assert Tags.of(child).effective() == {"env": "prod", "team": "ml"}
    Acknowledge.of(stack).add("CKV_AWS_1", reason="stack-wide reason")
    Acknowledge.of(child).add("CKV_AWS_1", reason="child reason")
    (ack,) = Acknowledge.of(child).effective()
    assert ack.reason == "child reason"


def test_acknowledgement_requires_reason_and_valid_id() -> None:
    app = engine.App()
    stack = engine.TerraformStack(app, "s")
    with pytest.raises(ValueError, match="needs a reason"):
        Acknowledge.of(stack).add("CKV_AWS_144", reason="  ")
    with pytest.raises(ValueError, match="not a checkov check id"):
        Acknowledge.of(stack).add("AWS_144", reason="x")
