import json
import math
import re

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from sklearn.mixture import GaussianMixture as SklearnMixture

import vaekit
from vaekit.cli.main import main
from vaekit.data import load
from vaekit.data.transforms import fixed_model_input
from vaekit.errors import ConfigError
from vaekit.models import gmm as gmm_module
from vaekit.models.gmm import GaussianMixture, GMMConfig
from vaekit.rundir import RunDir, load_checkpoint

COVARIANCES = ["diag", "full"]


def known_mixture(covariance, rng, m=3, d=5):
    """A GaussianMixture with random known parameters, and those parameters in numpy."""
    weights = rng.dirichlet(np.ones(m))
    means = rng.normal(size=(m, d))
    if covariance == "full":
        a = rng.normal(size=(m, d, d))
        covs = a @ a.transpose(0, 2, 1) / d + 0.1 * np.eye(d)
    else:
        covs = np.stack([np.diag(v) for v in rng.uniform(0.1, 2.0, size=(m, d))])
    model = GaussianMixture(GMMConfig(m, covariance, (1, 1, d)))
    spread = {"var": torch.tensor(np.diagonal(covs, axis1=1, axis2=2).copy())} if covariance == "diag" else \
        {"scale_tril": torch.linalg.cholesky(torch.tensor(covs))}
    model.load_state_dict({"log_weights": torch.tensor(np.log(weights)), "means": torch.tensor(means), **spread})
    return model, (weights, means, covs)


def reference_log_prob(x, weights, means, covs):
    """log Σ_m w_m N(x; μ_m, Σ_m) with scipy, as a logsumexp of log-densities."""
    return logsumexp([math.log(w) + multivariate_normal(mu, c).logpdf(x) for w, mu, c in zip(weights, means, covs)],
                     axis=0)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_log_prob_matches_scipy(covariance, monkeypatch):
    rng = np.random.default_rng(0)
    model, params = known_mixture(covariance, rng)
    x = rng.normal(size=(300, 5)) * 2
    ours = model.log_prob(torch.tensor(x))
    assert ours.dtype == torch.float64 and ours.shape == (300,)
    np.testing.assert_allclose(ours.numpy(), reference_log_prob(x, *params), rtol=0, atol=1e-8)
    # image-shaped input, and blocks of 7 rows instead of CHUNK, give the same numbers
    assert torch.equal(model.log_prob(torch.tensor(x).reshape(300, 1, 1, 5)), ours)
    monkeypatch.setattr(gmm_module, "CHUNK", 7)
    torch.testing.assert_close(model.log_prob(torch.tensor(x)), ours, rtol=0, atol=1e-12)


def three_blobs(n=3000, seed=0):
    """n draws from 3 well-separated 2-D Gaussians with full covariances, and the true parameters."""
    rng = np.random.default_rng(seed)
    weights = np.array([0.5, 0.3, 0.2])
    means = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    covs = np.array([[[1.0, 0.5], [0.5, 1.0]], [[0.5, 0.0], [0.0, 2.0]], [[1.0, -0.7], [-0.7, 1.0]]])
    k = rng.choice(3, size=n, p=weights)
    x = means[k] + np.einsum("nij,nj->ni", np.linalg.cholesky(covs)[k], rng.normal(size=(n, 2)))
    return x, (weights, means, covs)


def test_em_recovers_a_known_mixture():
    x, (weights, means, covs) = three_blobs()
    model = GaussianMixture(GMMConfig(3, "full", (1, 1, 2)))
    model.fit(torch.tensor(x), tol=1e-8, max_iter=500, generator=torch.Generator().manual_seed(0))
    assert model.converged_
    order = [int(np.argmin(np.linalg.norm(model.means.numpy() - mu, axis=1))) for mu in means]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(model.log_weights.exp().numpy()[order], weights, atol=0.02)
    np.testing.assert_allclose(model.means.numpy()[order], means, atol=0.1)
    fitted_cov = (model.scale_tril @ model.scale_tril.mT).numpy()[order]
    np.testing.assert_allclose(fitted_cov, covs, atol=0.15)
    # the maximum-likelihood fit scores the data a little above the true model, never much
    true_ll = reference_log_prob(x, weights, means, covs).mean()
    assert true_ll - 1e-9 < model.log_likelihood_ < true_ll + 0.02
    assert model.log_prob(torch.tensor(x)).mean().item() == pytest.approx(model.log_likelihood_, abs=1e-12)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_em_agrees_with_scikit_learn(covariance):
    x, _ = three_blobs(seed=1)
    ours = GaussianMixture(GMMConfig(3, covariance, (1, 1, 2))).fit(
        torch.tensor(x), tol=1e-8, max_iter=500, generator=torch.Generator().manual_seed(0))
    theirs = SklearnMixture(3, covariance_type=covariance, tol=1e-8, max_iter=500, reg_covar=1e-6,
                            random_state=0).fit(x)
    assert ours.log_prob(torch.tensor(x)).mean().item() == pytest.approx(theirs.score(x), abs=1e-3)


@pytest.fixture(scope="module")
def digits_x():
    """The digits training split, dequantised with a fixed seed: (1259, 1, 8, 8) in [0, 1)."""
    return fixed_model_input(load("digits", "train").images, "gaussian", seed=0)


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_em_never_decreases_the_likelihood(covariance, digits_x):
    # reg_covar is tiny here: adding it after the M-step is not part of EM, and at the default
    # 1e-6 (comparable to the variance of a blank pixel's dequantisation noise, 1/(12·256²))
    # it can lower the likelihood by ~1e-5 nats, as in scikit-learn.
    lls = []
    model = GaussianMixture(GMMConfig(4, covariance, (1, 8, 8), reg_covar=1e-10)).fit(
        digits_x, max_iter=12, tol=0.0, generator=torch.Generator().manual_seed(1),
        callback=lambda i, ll: lls.append((i, ll)))
    assert [i for i, _ in lls] == list(range(1, 13)) and lls[-1][1] == model.log_likelihood_
    steps = np.diff([ll for _, ll in lls])
    assert (steps >= -1e-9).all() and steps.sum() > 1, steps


def test_fit_is_deterministic_for_a_seed(digits_x):
    def fit(seed):
        lls = []
        model = GaussianMixture(GMMConfig(4, "full", (1, 8, 8))).fit(
            digits_x, max_iter=4, generator=torch.Generator().manual_seed(seed), callback=lambda i, ll: lls.append(ll))
        return lls, model.state_dict()

    (lls, state), (lls_again, state_again) = fit(3), fit(3)
    assert lls == lls_again and all(torch.equal(state[k], state_again[k]) for k in state)
    assert fit(4)[0] != lls


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_checkpoint_round_trip_gives_identical_log_prob(covariance, digits_x, tmp_path):
    model = GaussianMixture(GMMConfig(4, covariance, (1, 8, 8))).fit(
        digits_x, max_iter=5, generator=torch.Generator().manual_seed(0))
    with RunDir.create(tmp_path / "run") as run:
        run.save_checkpoint(model, {"epoch": 0, "iterations": model.n_iter_}, epoch=0)
    loaded = vaekit.load(tmp_path / "run")
    assert isinstance(loaded, GaussianMixture) and not loaded.training
    assert loaded.config == model.config and loaded.likelihood == "gaussian"
    assert torch.equal(loaded.log_prob(digits_x), model.log_prob(digits_x))
    assert load_checkpoint(tmp_path / "run", want_state=True)[1]["iterations"] == model.n_iter_


@pytest.mark.parametrize("covariance", COVARIANCES)
def test_empty_components_stay_finite(covariance):
    x = torch.tensor([[0.0, 0.0], [1.0, 1.0]], dtype=torch.float64).repeat(10, 1)  # 2 distinct points, 4 components
    model = GaussianMixture(GMMConfig(4, covariance, (1, 1, 2))).fit(x, generator=torch.Generator().manual_seed(0))
    for buffer in model.state_dict().values():
        assert torch.isfinite(buffer).all()
    assert torch.isfinite(model.log_prob(x)).all() and math.isfinite(model.log_likelihood_)


def test_sample_and_means_as_images():
    flat, (weights, means, _) = known_mixture("full", np.random.default_rng(2), d=4)
    model = GaussianMixture(GMMConfig(3, "full", (1, 2, 2)))
    model.load_state_dict(flat.state_dict())
    a = model.sample(20000, generator=torch.Generator().manual_seed(0))
    b = model.sample(20000, generator=torch.Generator().manual_seed(0))
    assert a.shape == (20000, 1, 2, 2) and a.dtype == torch.float32 and torch.equal(a, b)
    np.testing.assert_allclose(a.reshape(20000, 4).mean(0).numpy(), weights @ means, atol=0.05)
    assert model.means_as_images().shape == (3, 1, 2, 2)


def test_config_validation_and_json_round_trip():
    config = GMMConfig(10, "full", (1, 28, 28), reg_covar=1e-5)
    assert GMMConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert GMMConfig(3, "diag", [1, np.int64(8), 8]).image_shape == (1, 8, 8)   # lists and numpy ints
    for args, setting, message in [
        ((0, "diag", (1, 8, 8)), "components", "components must be a positive integer; got 0"),
        ((2.5, "diag", (1, 8, 8)), "components", "components must be a positive integer; got 2.5"),
        ((10 ** 8, "diag", (1, 8, 8)), "components", "components must be an integer in [1, 16777216]; got 100000000"),
        ((3, "spherical", (1, 8, 8)), "covariance", "covariance must be one of diag, full; got 'spherical'"),
        ((3, "diag", (8, 8)), "image_shape", "image_shape must be 3 positive integers; got (8, 8)"),
        ((3, "diag", (1, 0, 8)), "image_shape", "image_shape must be a positive integer; got 0"),
        ((3, "diag", (1, 8, 8), -1.0), "reg_covar", "reg_covar must be a finite number >= 0; got -1.0"),
        ((3, "diag", (1, 8, 8), float("nan")), "reg_covar", "reg_covar must be a finite number >= 0; got nan"),
    ]:
        with pytest.raises(ConfigError) as info:
            GMMConfig(*args)
        assert str(info.value) == message and info.value.setting == setting
    with pytest.raises(ConfigError, match=r"unknown GMM setting\(s\) \['tied'\]"):
        GMMConfig.from_dict({**config.to_dict(), "tied": True})


def test_fit_rejects_bad_input():
    model = GaussianMixture(GMMConfig(5, "diag", (1, 1, 3)))
    with pytest.raises(ConfigError, match=r"^components must be at most the number of training examples \(4\); "
                                          r"got 5$") as info:
        model.fit(torch.rand(4, 3))
    assert info.value.setting == "components"
    with pytest.raises(ConfigError, match=r"^max_iter must be a positive integer; got 0$"):
        model.fit(torch.rand(10, 3), max_iter=0)
    with pytest.raises(ConfigError, match=r"^tol must be a finite number >= 0; got -1$"):
        model.fit(torch.rand(10, 3), tol=-1)
    with pytest.raises(ValueError, match=r"x must be \(N, 3\) or \(N, 1, 1, 3\); got \(10, 4\)"):
        model.fit(torch.rand(10, 4))
    with pytest.raises(TypeError, match="floating-point"):
        model.log_prob(torch.zeros(10, 3, dtype=torch.uint8))


def cli(*args):
    return main(["gmm", "--data", "digits", "--device", "cpu", *args])


def test_cli_fits_digits_and_writes_a_loadable_run(tmp_path, capsys, digits_x):
    run = tmp_path / "run"
    assert cli("--components", "5", "--covariance", "full", "--out", str(run), "--max-iter", "12") == 0
    out = capsys.readouterr().out.splitlines()
    for name in ("config.json", "metrics.jsonl", "checkpoint.json", "means.png", "samples.png"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["kind"] == "gmm" and GMMConfig.from_dict(config["model"]) == GMMConfig(5, "full", (1, 8, 8))
    assert config["data"]["name"] == "digits" and config["data"]["n_train"] == 1259
    metrics = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["iteration"] for r in metrics] == list(range(1, len(metrics) + 1)) and len(metrics) <= 12
    assert sum(line.startswith("iteration ") for line in out) == len(metrics)
    assert "nats/example" in out[-2] and "bits/dim" in out[-2]
    model = vaekit.load(run)
    assert isinstance(model, GaussianMixture)
    # the run's dequantisation is fixed_model_input(train, "gaussian", seed): the model scores it as logged
    assert model.log_prob(digits_x).mean().item() == pytest.approx(metrics[-1]["train_log_px"], abs=1e-9)
    # a second fit into the same run directory is refused
    assert cli("--components", "5", "--out", str(run)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds a gmm run" in err


@pytest.mark.parametrize("flags, message", [
    (["--components", "0"], r"--components must be a positive integer; got 0"),
    (["--components", "3", "--covariance", "spherical"],
     r"--covariance must be one of diag, full; got 'spherical'"),
    (["--components", "5000"], r"--components must be at most the number of training examples \(1259\); got 5000"),
])
def test_cli_bad_input_is_one_line_and_exit_code_2(flags, message, tmp_path, capsys):
    assert cli(*flags, "--out", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vaekit: error: ")
    assert re.search(message, err), err
    assert not (tmp_path / "run").exists()


def test_cli_usage_error_exits_2(tmp_path, capsys):
    assert cli("--components", "many", "--out", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "argument --components: invalid int value: 'many'" in err
