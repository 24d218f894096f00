"""`vaekit lecture` end to end: the quick report (figures, numbers and their signs), the cache, bad input."""

import html
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import run_lecture  # tests/lecture/conftest.py (pytest puts its folder on sys.path)

SECTION_IDS = ["moon", "variance", "mixture", "bound", "problems"]


def test_quick_report_has_every_section_with_figures_numbers_and_a_conclusion(quick_report):
    out, proc, summary = quick_report
    assert summary["format"] == "vaekit-lecture/1"
    assert summary["settings"] == {"data": "digits", "data_dir": None, "quick": True, "seed": 0, "seeds": 1,
                                   "device": "cpu", "lang": "en"}
    assert [s["id"] for s in summary["sections"]] == SECTION_IDS
    assert [s["number"] for s in summary["sections"]] == [1, 2, 3, 4, 5]
    page = (out / "index.html").read_text()
    for section in summary["sections"]:
        assert section["figures"] and section["numbers"] and section["conclusion"], section["id"]
        for fig in section["figures"]:
            assert (out / fig["file"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f'src="{fig["file"]}"' in page
        for key, n in section["numbers"].items():
            assert set(n) in ({"value", "unit", "label"}, {"value", "unit", "label", "seeds", "sd"}), (section["id"], key)
            assert n["unit"] and n["label"], (section["id"], key)
        for run in section["runs"]:
            assert (out / run / "config.json").is_file()
        assert section["title"] in page
    # only the figures the page shows are kept
    shown = {f["file"] for s in summary["sections"] for f in s["figures"]}
    assert {f"figures/{p.name}" for p in (out / "figures").iterdir()} == shown
    # one summary line per section on stdout, no progress bars when not a terminal
    lines = [line for line in proc.stdout.splitlines() if line[:2] in {f"{i}." for i in range(1, 6)}]
    assert len(lines) == 5
    assert "\r" not in proc.stderr


def value(summary, section, key):
    s = next(s for s in summary["sections"] if s["id"] == section)
    return s["numbers"][key]["value"]


def test_quick_report_numbers_have_the_signs_the_lecture_predicts(quick_report):
    _, _, summary = quick_report

    def v(section, key):
        return value(summary, section, key)

    # 1. the moon: every decode is an image in [0, 1]; the VAE's path runs from full towards half.
    #    (Whether the VAE's path stays closer to a true moon than the AE's is measured and stated on
    #    the page; on these data it does not hold for every seed, so it is not asserted here.)
    for key in ("path_ae", "path_vae", "grid_ae", "grid_vae"):
        assert 0 < v("moon", key) < 1
    assert v("moon", "phase_last_vae") - v("moon", "phase_first_vae") > 0.2
    #    In the lecture's setting (full and half moons only) the fractions are percentages of one seed
    #    each (--quick); which model's are higher does not hold over seeds, so it is stated, not asserted.
    moon = next(s for s in summary["sections"] if s["id"] == "moon")
    for model in ("ae", "vae"):
        for what in ("path_moon", "path_new", "band_moon", "band_new"):
            entry = moon["numbers"][f"pair_{what}_{model}"]
            assert len(entry["seeds"]) == 1 and 0 <= entry["value"] <= 100
    assert "of 1 seed" in moon["conclusion"]
    # 2. without the KL term the variance collapses; the model reconstructs better, as an AE would
    assert v("variance", "mean_exp_sigma_nokl") < 0.1 * v("variance", "mean_exp_sigma_kl")
    assert v("variance", "recon_nokl") < v("variance", "recon_kl")
    assert v("variance", "kl_nokl") > v("variance", "kl_kl")
    # 3. no model beats the true density's held-out log-likelihood beyond noise
    ceiling, noise = v("mixture", "true_ll"), 3 * v("mixture", "true_se")
    assert v("mixture", "vae_ll") <= ceiling + noise
    for m in (1, 4, 16, 64):
        assert v("mixture", f"gmm{m}_gap") <= 3 * v("mixture", f"gmm{m}_gap_se")
    assert v("mixture", "vae_gap") <= 3 * v("mixture", "vae_gap_se")
    #    the 1-D-latent VAE's decoded curve follows the spiral with the decoder's std annealed, and cuts across the
    #    arms under the plain ELBO: each held in 3 of 3 seeds of the default report (bench/spiral_recipe.py), and in
    #    the quick report's one
    assert v("mixture", "vae_coverage") < v("mixture", "noise_std") < v("mixture", "vae_plain_coverage") / 2
    # 4. log p(x) >= L_b over training; in the linear case exact >= IS >= L_b within noise, gap ~ 0
    assert v("bound", "train_gap") > 0
    assert v("bound", "train_gap_negative_epochs") <= 0.1 * v("bound", "train_epochs")   # IS noise, at most rarely
    for key in ("linear_exact_minus_is", "linear_is_minus_elbo", "linear_true_minus_exact"):
        assert v("bound", key) >= -3 * v("bound", f"{key}_se"), key
    assert -3 * v("bound", "linear_gap_se") <= v("bound", "linear_gap") < 0.05
    for model in ("vae", "iwae"):
        bounds = [v("bound", f"{model}_L{k}") for k in (1, 5, 50, v("bound", "k_max"))]
        assert bounds == sorted(bounds), (model, bounds)   # the bound rises with k
        assert v("bound", f"{model}_gap1_refined") < v("bound", f"{model}_gap1")   # a better q, a smaller gap
    # 5. samples (mean images) are blurrier than the data; draws from p(x|z) are sharper than the means
    assert v("problems", "grad_samples") < v("problems", "grad_data")
    assert v("problems", "grad_draws") > v("problems", "grad_samples")


def test_second_call_reuses_every_run(quick_report, tmp_path):
    out, first, summary = quick_report
    again = run_lecture("--quick", "--device", "cpu", "--out", str(out))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "0 run(s) trained" in again.stdout and " 0 reused" not in again.stdout
    second = json.loads((out / "summary.json").read_text())
    assert [s["runs"] for s in second["sections"]] == [s["runs"] for s in summary["sections"]]


def test_unknown_data_is_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "report"
    proc = run_lecture("--data", "no-such-data", "--out", str(out), "--quick")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "unknown dataset 'no-such-data'" in proc.stderr
    assert not out.exists()


def test_too_small_data_names_the_section_and_what_it_needs(tmp_path):
    images = tmp_path / "few.npy"
    np.save(images, np.zeros((60, 8, 8), np.uint8))
    proc = run_lecture("--data", str(images), "--out", str(tmp_path / "report"), "--quick")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert "train split has 48 images; section(s) 3" in proc.stderr and "need at least 100" in proc.stderr
    assert not (tmp_path / "report").exists()


def test_out_holding_something_else_is_refused_and_kept(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    proc = run_lecture("--out", str(tmp_path), "--quick")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "holds something other than a lecture report (notes.txt)" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_unwritable_out_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    proc = run_lecture("--out", str(tmp_path / "file" / "report"), "--quick")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert str(tmp_path / "file" / "report") in proc.stderr


@pytest.mark.parametrize("args, expected", [
    (["--seed", "-1"], "--seed must be an integer in [0, 9223372036854775807]; got -1"),
    (["--seeds", "0"], "--seeds must be an integer in [1, 20]; got 0 (each seed trains the sections' main models"),
    (["--device", "tpu"], "--device must be one of auto, cpu, cuda; got 'tpu'"),
    (["--data-dir", "/tmp"], "--data-dir='/tmp' would be ignored: digits is shipped inside scikit-learn"),
    (["--lang", "fr"], "--lang must be one of en, zh-TW; got 'fr'"),
    (["--lang", "zh_TW"], "--lang must be one of en, zh-TW; got 'zh_TW'"),
])
def test_bad_flags(tmp_path, args, expected):
    proc = run_lecture(*args, "--out", str(tmp_path / "r"), "--quick")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert expected in proc.stderr
    assert not (tmp_path / "r").exists()


def test_every_section_that_trained_image_or_moon_models_gives_a_working_serve_command(quick_report):
    import shlex
    import urllib.request

    from web.server import Server

    out, _, summary = quick_report
    page = (out / "index.html").read_text()
    commands = {}
    for section in summary["sections"]:
        assert section["explore"], section["id"]
        for item in section["explore"]:
            argv = shlex.split(item["command"])
            assert argv[:2] == ["vaekit", "serve"] and 1 <= len(argv) - 2 <= 2, item
            for run_dir in argv[2:]:
                assert (Path(run_dir) / "config.json").is_file(), run_dir
            assert html.escape(item["command"]) in page
            commands[section["id"]] = argv[2:]
    with Server(commands["moon"]) as server:          # the moon AE and VAE, side by side in the explorer
        info = json.loads(urllib.request.urlopen(server.url + "api/info", timeout=30).read())
    assert len(info["models"]) == 2
