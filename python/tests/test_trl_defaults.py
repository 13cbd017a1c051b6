# The worksheet's defaults are TRL's: `grpo-lab worksheet` on an input that sets no config key
# reports, for every GRPOConfig key it takes, the value the installed TRL's GRPOConfig() has.
import json

from trl import GRPOConfig

from conftest import grpo_lab

# TRL's None is the worksheet's 0 for delta (off), null for reward_weights (all 1), and epsilon
# for epsilon_high (TRL's "same as epsilon").
def none_as(key: str, trl: GRPOConfig):
    return {"delta": 0, "reward_weights": None, "epsilon_high": trl.epsilon}[key]


def test_the_worksheets_defaults_are_the_installed_trls(tmp_path):
    path = tmp_path / "input.json"
    path.write_text(json.dumps({"groups": [{"rewards": [1, 0], "completions": [{"logp": [-0.5]}, {"logp": [-1.0]}]}]}))
    lab = json.loads(grpo_lab("worksheet", "--backend", "cpu", "--input", str(path)))["config"]
    trl = GRPOConfig(output_dir=str(tmp_path / "out"), use_cpu=True, report_to=[])
    assert sorted(lab) == sorted(set(lab) & set(vars(trl))), f"keys TRL's GRPOConfig does not have: {set(lab) - set(vars(trl))}"
    for key, value in lab.items():
        expected = getattr(trl, key)
        if expected is None:
            expected = none_as(key, trl)
        assert value == expected, f"{key}: the worksheet's default is {value!r}, TRL {getattr(trl, key)!r}"
