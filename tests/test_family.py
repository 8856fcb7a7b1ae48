"""The mixture family beyond the paper's datasets (``mix-dD-kK-{equal,unequal}-sS``): built from
its name alone, with the closest means where the name puts them, standardised, drawn with its
weights, and scored like the other mixtures."""
from __future__ import annotations

import pytest
import torch

import veegan
from veegan.data.catalog import DATASETS, make_dataset
from veegan.data.family import FamilyMember, family_mixture, family_names
from veegan.data.synthetic import GaussianMixture, high_quality_radius
from veegan.errors import VeeganError


@pytest.mark.parametrize("name", ["mix-d2-k20-equal-s2", "mix-d50-k20-unequal-s4", "mix-d200-k10-equal-s8"])
def test_a_member_is_what_its_name_says(name):
    member = FamilyMember.parse(name)
    data = make_dataset(name)
    assert data.name == name == member.name
    assert data.means.shape == (member.modes, member.dim) and data.dim == member.dim
    closest = torch.pdist(data.means.double()).min().item()
    assert closest == pytest.approx(member.separation * data.hq_radius, rel=1e-5)
    assert data.hq_radius == pytest.approx(high_quality_radius(data.std, member.dim))
    # standardised: centred, average per-coordinate variance 1 (measured on samples)
    x = data.sample(40_000, torch.Generator().manual_seed(0)).double()
    assert x.mean(0).abs().max().item() < 0.05
    assert x.var(0).mean().item() == pytest.approx(1.0, rel=0.03)
    # the same name is the same data; another name is other data
    torch.testing.assert_close(make_dataset(name).means, data.means, rtol=0, atol=0)
    assert not torch.equal(make_dataset(name.replace("-s", "-s1")).means, data.means)


def test_unequal_weights_are_1_to_k_in_random_order_and_sampling_follows_them():
    data = make_dataset("mix-d5-k12-unequal-s4")
    ranks = (data.weights * data.weights.reciprocal().max()).round()  # w_k / w_min
    assert sorted(ranks.tolist()) == list(range(1, 13)) and ranks.tolist() != sorted(ranks.tolist())
    k = data.draw_modes(120_000, torch.Generator().manual_seed(1))
    frequencies = torch.bincount(k, minlength=12).double() / len(k)
    torch.testing.assert_close(frequencies, data.weights.double(), rtol=0.06, atol=0.0)
    equal = make_dataset("mix-d5-k12-equal-s4")
    assert torch.allclose(equal.weights, torch.full((12,), 1 / 12))


def test_an_unequal_mixture_draws_each_mode_from_a_uniform_by_inverse_cdf():
    data = GaussianMixture("three", torch.eye(3), 0.1, weights=torch.tensor([2.0, 1.0, 1.0]))
    k = data.draw_modes(80_000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(torch.bincount(k).double() / len(k), torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64),
                               rtol=0.03, atol=0.0)
    assert torch.equal(k, data.draw_modes(80_000, torch.Generator().manual_seed(0)))


@pytest.mark.parametrize("name", ["mix-d2-k20-unequal-s2", "mix-d50-k20-equal-s4"])
def test_real_samples_score_every_mode_under_the_calibrated_rule(name):
    data = make_dataset(name)
    real = data.score(data.sample(5000, torch.Generator().manual_seed(2)))
    assert real["modes"] == 20 and real["high_quality_pct"] == pytest.approx(98.9, abs=0.8)
    assert real["reverse_kl"] < 0.01  # the histogram follows the weights, unequal or not


def test_names_of_other_forms_are_not_the_familys_and_bad_values_are_refused():
    assert FamilyMember.parse("ring") is None and FamilyMember.parse("mix-d5-k20-skewed-s4") is None
    with pytest.raises(VeeganError, match="needs D >= 1, K >= 2 and S > 0"):
        DATASETS.get("mix-d5-k1-equal-s4")
    with pytest.raises(VeeganError, match=r"or mix-dD-kK-\{equal,unequal\}-sS"):
        DATASETS.get("moons")
    assert len(family_names()) == 30 and "mix-d200-k20-unequal-s8" in family_names()


def test_a_run_trains_and_scores_on_a_member(tiny, tmp_path):
    run = veegan.train("gan", "mix-d10-k20-unequal-s4", out=tmp_path / "run", steps=6, overrides=tiny, progress=False)
    result = run.evaluate()
    assert result["max_modes"] == 20 and result["real"]["modes"] == 20
    assert run.config.dataset == "mix-d10-k20-unequal-s4"


def test_unequal_mixtures_report_the_mass_at_each_mode():
    data = make_dataset("mix-d5-k12-unequal-s4")
    real = data.score(data.sample(20_000, torch.Generator().manual_seed(3)))
    mass = torch.tensor(real["mode_mass"], dtype=torch.float64)
    torch.testing.assert_close(mass, 0.989 * data.weights.double(), rtol=0.1, atol=0.0)
    only_first = data.score(data.means[:1].repeat(100, 1))
    assert only_first["mode_mass"][0] == 1.0 and sum(only_first["mode_mass"]) == 1.0
    assert "mode_mass" not in make_dataset("ring").score(make_dataset("ring").sample(100))


def test_reproduce_beyond2d_tabulates_by_dimension_and_plots(tmp_path, monkeypatch, capsys):
    from veegan.cli import main
    from veegan.experiments import beyond2d

    from .conftest import TINY

    monkeypatch.setitem(beyond2d.BEYOND2D_BUDGETS, "quick", 4)
    names = ["mix-d2-k10-equal-s4", "mix-d5-k10-equal-s4", "mix-d5-k10-unequal-s4"]
    tiny = [a for key, value in (("batch_size", "16"), ("model.latent_dim", "3"), ("model.generator_hidden", "8,8"),
                                 ("model.reconstructor_hidden", "8,8"), ("model.discriminator_hidden", "8"),
                                 ("schedule.tensorboard", "false"), ("schedule.eval_samples", "200"),
                                 ("runtime.threads", "1")) for a in ("--set", f"{key}={value}")]
    assert TINY["batch_size"] == 16
    args = ["reproduce", "beyond2d", "--datasets", *names, "--seeds", "2", "--out", str(tmp_path / "out"),
            "--results", str(tmp_path / "kept"), "--tag", "tiny", "--quiet", *tiny]
    assert main(args) == 0
    table = (tmp_path / "out" / "tiny" / "beyond2d.md").read_text()
    assert table.startswith("Mixture family, `tiny`, 4 steps per run")
    assert "**10 modes, equal weights, closest means 4 high-quality radii apart**" in table
    assert "| method | d = 2 | d = 5 |" in table and "| real data | 10.0 ± 0.0" in table
    assert "rKL" in table.split("unequal")[1]  # reverse KL, mean ± std over seeds
    assert (tmp_path / "out" / "tiny" / "beyond2d.png").read_bytes()[:4] == b"\x89PNG"
    rare = table.split("**Rare modes of mix-d5-k10-unequal-s4**")[1]
    assert "| method | rarest 1 (1.82 %) | rarest 2 (3.64 %) | rarest 3 (5.45 %) | rarest five held | rKL |" in rare
    assert "| gan |" in rare and "| real data |" in rare
    assert "| real data | 3 | 3 of 3 | 1 of 1 |" in table.split("**Members meeting the recipe study's goal**")[1]
    # several presets: each one's runs in its own folder, one joint table with the preset in each label
    args = ["reproduce", "beyond2d", "--datasets", "mix-d5-k10-unequal-s4", "--methods", "veegan", "--seeds", "1",
            "--preset", "paper", "robust", "--tag", "joint", "--out", str(tmp_path / "both"), "--quiet", *tiny,
            "--set", "steps=5"]  # overrides the budget's 4, and the title says so
    assert main(args) == 0
    joint = (tmp_path / "both" / "joint" / "beyond2d.md").read_text()
    assert joint.startswith("Mixture family, `joint`, 5 steps per run")
    assert "| veegan (paper) |" in joint and "| veegan (robust) |" in joint
    configs = {path.parts[-5].split("+")[0]: path.read_text()
               for path in (tmp_path / "both").glob("*/mix-d5-k10-unequal-s4/veegan/seed0/config.yaml")}
    assert "r1_gamma: 10.0" in configs["robust"] and "r1_gamma: 0.0" in configs["batch_size=16"]
    assert (tmp_path / "kept" / "tiny" / "mix-d5-k10-unequal-s4" / "veegan" / "seed1" / "metrics.json").is_file()
    capsys.readouterr()
    assert main(["reproduce", "beyond2d", "--datasets", "ring", "--out", str(tmp_path / "x")]) == 2
    assert "members of the mixture family" in capsys.readouterr().err
    assert main(["reproduce", "table1", "--set", "steps=3", "--out", str(tmp_path / "y")]) == 2
    assert "--set is an option of `reproduce beyond2d` and `reproduce recipe` only" in capsys.readouterr().err
    assert main(["reproduce", "table1", "--tag", "t", "--out", str(tmp_path / "y")]) == 2
    assert "--tag is an option of `reproduce beyond2d` only" in capsys.readouterr().err


def test_family_goal_counts_members_at_the_boundary_and_rare_modes_by_mean_over_seeds():
    from veegan.experiments.beyond2d import family_goal_markdown

    equal, unequal = "mix-d2-k10-equal-s4", "mix-d5-k10-unequal-s4"
    rarest = family_mixture(FamilyMember.parse(unequal)).weights.double().argsort()[:5].tolist()

    def holding(count: int) -> list[float]:  # mass on every mode but the rarest five after the first `count`
        return [0.0 if i in rarest[count:] else 0.1 for i in range(10)]

    real = {"mode_mass": holding(5)}
    finals = {("gan", unequal, 0): {"mode_mass": holding(4), "real": real},
              ("gan", unequal, 1): {"mode_mass": holding(3), "real": real},  # 3.5 of 5 on average: short of 4
              ("gan", equal, 0): {"mode_mass": holding(5), "real": real},
              ("gan", "mix-d2-k3-unequal-s4", 0): {"mode_mass": [0.3, 0.3, 0.3], "real": real}}
    rows = [dict(method="gan", dataset=equal, dim=2, weights="equal", max_modes=10, modes_mean=9.0, high_quality_pct_mean=50.0),
            dict(method="gan", dataset=unequal, dim=5, weights="unequal", max_modes=10, modes_mean=8.9, high_quality_pct_mean=90.0),
            # three modes have no "rarest five": the member counts for modes, not for rare modes
            dict(method="gan", dataset="mix-d2-k3-unequal-s4", dim=2, weights="unequal", max_modes=3, modes_mean=3.0,
                 high_quality_pct_mean=90.0),
            dict(method="real data", dataset=equal, dim=2, weights="equal", max_modes=10, modes_mean=10.0, high_quality_pct_mean=99.0),
            dict(method="real data", dataset=unequal, dim=5, weights="unequal", max_modes=10, modes_mean=10.0,
                 high_quality_pct_mean=49.9)]
    table = family_goal_markdown(rows, finals, ["gan"])
    # d = 2: the equal member meets the goal at the boundary, the 3-mode member has no rarest five
    assert "| gan | 3 | 2 of 3 | 0 of 1 | d = 2: 2 of 2; d = 5: 0 of 1 (0 of 1) |" in table
    assert "| real data | 2 | 1 of 2 | 1 of 1 | d = 2: 1 of 1; d = 5: 0 of 1 (1 of 1) |" in table
    assert ">= K - 1 modes at >= 50 % high quality" in table


def test_the_rare_mode_table_names_all_modes_on_a_member_of_fewer_than_five():
    from veegan.experiments.beyond2d import rare_mode_markdown

    real = {"mode_mass": [0.2, 0.3, 0.5]}
    finals = {("gan", "mix-d2-k3-unequal-s4", 0): {"mode_mass": [0.0, 0.3, 0.7], "real": real},
              ("gan", "mix-d5-k10-unequal-s4", 0): {"mode_mass": [0.1] * 10, "real": {"mode_mass": [0.1] * 10}}}
    small, large = rare_mode_markdown(finals, ["gan"]).split("**Rare modes of mix-d5-k10-unequal-s4**")
    assert "| all 3 modes held | rKL |" in small and "rarest five" not in small
    assert "| gan | " in small and " | 2.0 / 3 | " in small
    assert "| rarest five held | rKL |" in large
