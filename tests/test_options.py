"""Method options as a form sees them: plain defaults, and "auto" ones that defer to the checkpoint."""

from __future__ import annotations

from pathlib import Path

from inpaint_studio.engine.base import create_method, method_specs
from inpaint_studio.engine.methods.deepfill_v2 import DeepFillV2Method
from inpaint_studio.engine.methods.vcnet import DETECTORS, FILLS, VCNetMethod
from inpaint_studio.engine.options import option_specs


def by_name(factory, defaults=None):
    return {s.name: s for s in option_specs(factory, defaults)}


def test_vcnet_measured_settings_are_auto_options_with_their_allowed_values():
    specs = by_name(VCNetMethod)
    assert specs["detector"].kind == "choice" and specs["detector"].auto
    assert specs["detector"].choices == DETECTORS and specs["fill"].choices == FILLS
    assert specs["threshold"].kind == "float" and specs["threshold"].auto
    assert (specs["threshold"].minimum, specs["threshold"].maximum) == (0.01, 0.99)
    assert specs["mask_size"].kind == "int" and specs["mask_size"].minimum == 16
    assert specs["max_side"].kind == "int" and specs["max_side"].default == 1024 and not specs["max_side"].auto
    assert "device" not in specs and "checkpoint" not in specs


def test_numbers_keep_large_defaults_in_range_and_registry_defaults_win():
    specs = by_name(DeepFillV2Method)
    assert specs["max_pixels"].maximum >= specs["max_pixels"].default == 1024 * 1024
    assert specs["working_size"].auto and specs["working_size"].minimum == 0
    assert by_name(DeepFillV2Method, {"max_pixels": 4096})["max_pixels"].default == 4096


class Odd:
    option_choices = {"mode": ("a", "b")}

    def __init__(self, path: Path = Path("x"), scale: float | None = None, mode: str = "zzz",
                 either: int | str | None = None, flag: bool = True) -> None:
        pass


def test_unformable_options_are_left_out():
    specs = by_name(Odd)
    assert set(specs) == {"scale", "flag"}  # a Path, a default outside its choices, an ambiguous union: no form
    assert specs["scale"].kind == "float" and specs["scale"].auto and specs["flag"].kind == "bool"


def test_every_registered_method_accepts_its_own_form_defaults_and_they_are_what_runs():
    for spec in method_specs():
        values = {s.name: s.default for s in option_specs(spec.factory, spec.defaults) if not s.auto}
        # A form showing other values than the method really starts with would mislead: same state either way.
        assert vars(create_method(spec.name, **values)) == vars(create_method(spec.name)), spec.name


def test_resolved_options_read_the_checkpoint_json_without_loading_weights(tmp_path):
    from inpaint_studio.engine.checkpoints import save_checkpoint
    from inpaint_studio.networks.registry import create_network

    net = create_network("deepfill_v2_generator", cnum=4)
    path = save_checkpoint(tmp_path / "df", "deepfill_v2", {"generator": net},
                           {"generator": {"network": "deepfill_v2_generator", "config": {"cnum": 4}}},
                           {"inference": {"working_size": 192}})
    method = create_method("deepfill_v2", checkpoint=path)
    assert method.resolved_options(["working_size", "max_pixels"]) == {"working_size": 192}  # a plain attribute is no auto option
    assert not method.loaded and method.meta == {}
    assert create_method("deepfill_v2", checkpoint=path, working_size=0).resolved_options(["working_size"]) == {"working_size": 0}
    assert create_method("telea").resolved_options(["radius"]) == {}
