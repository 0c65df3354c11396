import pytest

from core.config import DatasetConfig, ModelSpec, RunConfig, dtype_name


def test_short_dtype_names_are_the_same_run():
    assert dtype_name("bf16") == "bfloat16" and dtype_name("fp16") == "float16" and dtype_name("fp32") == "float32"
    assert ModelSpec(dtype="bf16") == ModelSpec(dtype="bfloat16")
    ds = DatasetConfig(("cat",))
    assert RunConfig(ModelSpec(dtype="fp32"), ds).config_id == RunConfig(ModelSpec(), ds).config_id
    assert RunConfig(ModelSpec(dtype="bf16"), ds).config_id != RunConfig(ModelSpec(), ds).config_id


@pytest.mark.parametrize("bad", ["int8", "float64", "", "BF16"])
def test_unknown_dtype_is_refused(bad):
    with pytest.raises(ValueError, match="dtype must be one of"):
        ModelSpec(dtype=bad)
