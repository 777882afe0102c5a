"""The library's error type for construct rules and props: one line per problem, in the user's terms."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from constructs_lib.core import engine
from constructs_lib.core.construct import MlopsConstruct
from constructs_lib.core.errors import ConstructError, ConstructTypeError, MlopsError, PropsError, SpecError
from constructs_lib.core.props import DataStoreProps, Model
from constructs_lib.core.run_props import BudgetProps
from constructs_lib.core.spec import PlatformSpec, load_spec
from constructs_lib.core.spec_fields import spec_error
from constructs_lib.platform import synthesize

ROOT = Path(__file__).resolve().parents[2]


def test_props_errors_are_the_library_error_one_line_per_field() -> None:
    with pytest.raises(PropsError) as exc:
        DataStoreProps(name="X", lifecycle={"archive_after_days": 0}, colour="red")
    err = exc.value
    assert isinstance(err, MlopsError) and isinstance(err, ConstructError) and isinstance(err, ValueError)
    assert isinstance(err, ValidationError) and len(err.errors()) == 3  # existing handlers keep working
    assert err.props_type is DataStoreProps and err.path is None
    assert str(err).splitlines() == [
        "DataStoreProps.name: String should have at least 3 characters",
        "DataStoreProps.lifecycle.archive_after_days: Input should be greater than or equal to 1",
        "DataStoreProps.colour: Extra inputs are not permitted: unknown field; check the spelling against "
        "DataStoreProps's fields",
    ]
    assert "validation error for" not in str(err)


def test_model_validator_messages_lose_pydantic_prefix() -> None:
    with pytest.raises(PropsError, match=r"^DataStoreProps: replication needs versioning: set versioning: true"):
        DataStoreProps(name="abc", versioning=False, replication={"region": "eu-west-1"})


def test_nested_models_keep_full_paths_in_specs() -> None:
    # Validation as part of a spec goes through pydantic as before: the spec names every path.
    with pytest.raises(ValidationError) as exc:
        PlatformSpec.model_validate({"name": "abc", "cloud": "aws", "environment": "dev", "regions": ["eu-west-1"],
                                     "storage": {"lifecycle": {"archive_after_days": 0}}})
    assert exc.value.errors()[0]["loc"] == ("storage", "lifecycle", "archive_after_days")


class _Thing(Model):
    size: int = 1


class _Widget(MlopsConstruct):
    props_type = _Thing

    def __init__(self, scope: engine.Construct, id: str, props: _Thing) -> None:
        super().__init__(scope, id, props)
        if props.size > 3:
            raise ConstructError(None, f"size {props.size} is more than 3; use 1-3", prop="size")
        if props.size == 3:
            DataStoreProps(name="x")  # props built inside a construct


def test_construct_errors_get_the_construct_path() -> None:
    stack = engine.TerraformStack(engine.App(), "s")
    with pytest.raises(ConstructError) as exc:
        _Widget(stack, "w", _Thing(size=5))
    assert str(exc.value) == "s/w: size: size 5 is more than 3; use 1-3"
    with pytest.raises(PropsError) as props_exc:
        _Widget(stack, "w3", _Thing(size=3))
    assert str(props_exc.value) == "s/w3: DataStoreProps.name: String should have at least 3 characters"


def test_wrong_props_type_is_a_construct_type_error() -> None:
    stack = engine.TerraformStack(engine.App(), "s")
    with pytest.raises(ConstructTypeError) as exc:
        _Widget(stack, "w", DataStoreProps(name="abc"))  # type: ignore[arg-type]
    assert isinstance(exc.value, TypeError) and isinstance(exc.value, MlopsError)
    assert str(exc.value).startswith("s/w: props must be tests.unit.test_errors._Thing, got constructs_lib.core.props.DataStoreProps")


def test_construct_rule_in_a_spec_names_the_file_and_field(tmp_path: Path) -> None:
    data = yaml.safe_load((ROOT / "examples/gpu-training/aws.yaml").read_text())
    data["training"]["pools"][0]["machine_type"] = "m9.huge"
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpecError) as exc:
        synthesize([path], outdir=tmp_path / "out")
    assert str(exc.value) == (
        f"{path}: training.pools[0].machine_type: pool 'gpu': machine type 'm9.huge' is not in MACHINE_SPECS; "
        "use a known type or add it to TrainingProps.machine_specs (vcpus, memory_mib, gpus)"
    )
    assert not (tmp_path / "out").exists()


def test_spec_error_maps_props_and_unknown_constructs(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text((ROOT / "examples/multi-region-serving/aws.yaml").read_text())
    spec = load_spec(path)
    with pytest.raises(PropsError) as exc:
        BudgetProps(name="b-b", monthly_amount=-1)
    # A props field the spec section has too becomes the spec field; a derived one stays a prop.
    assert str(spec_error(spec, exc.value)) == f"{path}: budget.monthly_amount: Input should be greater than 0"
    with pytest.raises(PropsError) as exc:
        BudgetProps(name="B", monthly_amount=1)
    assert str(spec_error(spec, exc.value)).startswith(f"{path}: budget: BudgetProps.name: String should match")
    # Constructs named after spec entries, and one the tables do not know (named by its path).
    err = ConstructError("serving-aws/endpoint-churn-eu-west-1/role", "too long", prop="name")
    assert str(spec_error(spec, err)) == f"{path}: serving.endpoints[0]: name: too long"
    err = ConstructError("serving-aws/serving-network-eu-west-1", "no zones")
    assert str(spec_error(spec, err)) == f"{path}: regions[1]: no zones"
    err = ConstructError("serving-aws/my-extra/thing", "bad", prop="size")
    assert str(spec_error(spec, err)) == f"{path}: serving-aws/my-extra/thing: size: bad"


def test_custom_pydantic_errors_convert_too() -> None:
    from pydantic import field_validator
    from pydantic_core import PydanticCustomError

    class Custom(Model):
        a: int = 1

        @field_validator("a")
        @classmethod
        def _a(cls, value: int) -> int:
            raise PydanticCustomError("my_kind", "custom {thing}", {"thing": "problem"})

    with pytest.raises(PropsError) as exc:
        Custom(a=2)
    assert str(exc.value) == "Custom.a: custom problem" and exc.value.errors()[0]["type"] == "my_kind"
