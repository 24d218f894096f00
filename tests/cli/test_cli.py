"""The command line end to end: real runs on digits, and one-line errors for bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from data_files import checksums, mnist_with_truncated_file
from vaekit.data.download import RESOURCES, Resource
from vaekit.cli.main import main

FAST = ["--hidden", "32", "--latent", "4", "--epochs", "2", "--device", "cpu", "--log-px-k", "5"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *argv, match, code=2):
    got, out, err = run(capsys, *argv)
    assert got == code, (got, err)
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert match in err, err
    return err


def test_train_then_eval_on_digits(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, err = run(capsys, "train", "--out", str(out_dir), *FAST)
    assert code == 0, err
    assert out.startswith(f"run directory: {out_dir}\n")
    assert "epoch   2/2" in out and "val -ELBO" in out
    for name in ("config.json", "metrics.jsonl", "checkpoint.json", "samples.png", "reconstructions.png",
                 "interpolations.png", "curves.png"):
        assert (out_dir / name).is_file(), name
    code, out, err = run(capsys, "eval", str(out_dir), "--k", "20", "--json")
    assert code == 0, err
    report = json.loads(out)      # stdout is one JSON object and nothing else
    for key in ("elbo", "recon", "kl", "log_px", "log_px_se", "gap", "bits_per_dim", "active_units",
                "latent_dim", "kl_per_dim", "k", "split", "n", "seconds"):
        assert key in report, key
    assert report["k"] == 20 and report["split"] == "test" and report["n"] == 359
    assert len(report["kl_per_dim"]) == 4
    assert report["log_px"] >= report["elbo"] - 0.5
    code, out, _ = run(capsys, "eval", str(out_dir), "--k", "5")
    assert code == 0 and "log p(x)" in out and "bits/dim" in out


def test_python_dash_m_and_toml_config(tmp_path):
    config = tmp_path / "cfg.toml"
    config.write_text('hidden = [16]\nlatent = 3\nepochs = 1\nmodel = "ae"\n')
    out_dir = tmp_path / "run"
    done = subprocess.run([sys.executable, "-m", "vaekit", "train", "--config", str(config), "--out", str(out_dir),
                           "--device", "cpu"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    saved = json.loads((out_dir / "config.json").read_text())
    assert saved["fit"]["hidden"] == [16] and saved["kind"] == "ae" and saved["model"]["latent"] == 3
    assert saved["command"] == ["vaekit", "train", "--config", str(config), "--out", str(out_dir), "--device", "cpu"]
    bad = tmp_path / "bad.toml"
    bad.write_text("hiden = 3\n")
    done = subprocess.run([sys.executable, "-m", "vaekit", "train", "--config", str(bad), "--out", str(tmp_path / "x")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "unknown setting 'hiden'" in done.stderr
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize("argv, match", [
    (["--data", "cifar"], "unknown dataset 'cifar'"),
    (["--model", "gan"], "--model must be one of vae, ae; got 'gan'"),
    (["--likelihood", "poisson"], "--likelihood must be one of auto, bernoulli, gaussian; got 'poisson'"),
    (["--arch", "resnet"], "--arch must be one of mlp, conv"),
    (["--latent", "0"], "--latent must be a positive integer; got 0"),
    (["--batch-size", "-5"], "--batch-size must be a positive integer; got -5"),
    (["--hidden", "400,-1"], "--hidden must be a positive integer; got -1"),
    (["--epochs", "0"], "--epochs must be a positive integer; got 0"),
    (["--lr", "0"], "--lr must be a finite number > 0; got 0.0"),
    (["--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["--stochastic-layers", "3"], "--stochastic-layers must be an integer in [1, 2]; got 3"),
    (["--stochastic-layers", "2", "--hidden2", "100"], "--latent2 must be a positive integer; got 0 (with two stochastic layers, the size of z2"),
    (["--stochastic-layers", "2", "--latent2", "50"], "--hidden2 must give the widths of the layers between z1 and z2"),
    (["--latent2", "50"], "--latent2 would be ignored"),
    (["--stochastic-layers", "2", "--latent2", "5", "--hidden2", "8", "--model", "ae"], "needs a VAE"),
    # the parts (issue 22): posterior, flow steps, mixture components, condition
    (["--posterior", "flow"], "--posterior must be one of diag, iaf; got 'flow'"),
    (["--posterior", "iaf", "--model", "ae"], "--posterior 'iaf' needs a VAE"),
    (["--posterior", "iaf", "--flow-steps", "0"], "--flow-steps must be an integer in [1, 64]; got 0"),
    (["--posterior", "iaf", "--flow-steps", "1000000000"], "--flow-steps must be an integer in [1, 64]; got 1000000000"),
    (["--prior", "mog", "--prior-components", "0"], "--prior-components must be a positive integer; got 0"),
    (["--prior", "mog", "--prior-components", "100000"], "--prior-components=100000 is more than the 1,259 training"),
    (["--condition", "label", "--data", "spiral"], "--condition=label needs a dataset with labels; spiral has none"),
])
def test_bad_flags(tmp_path, capsys, argv, match):
    one_line_error(capsys, "train", "--out", str(tmp_path / "run"), *argv, match=match)
    assert not (tmp_path / "run" / "checkpoint.json").exists()


def test_bad_data_files(tmp_path, capsys, mnist_slice):
    # a truncated IDX file: the error names the file
    bad = mnist_with_truncated_file(mnist_slice, tmp_path / "mnist", "train-images-idx3-ubyte.gz", 100_000)
    one_line_error(capsys, "train", "--data", "mnist", "--data-dir", str(bad), "--out", str(tmp_path / "r"),
                   match="train-images-idx3-ubyte.gz")
    # an empty image folder, an unreadable image, an array of the wrong dtype
    empty = tmp_path / "empty"
    empty.mkdir()
    one_line_error(capsys, "train", "--data", str(empty), "--out", str(tmp_path / "r"), match=str(empty))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "a.png").write_bytes(b"not a png")
    one_line_error(capsys, "train", "--data", str(broken), "--out", str(tmp_path / "r"), match="a.png")
    arr = tmp_path / "x.npy"
    np.save(arr, np.zeros((10, 8, 8), np.float32))
    one_line_error(capsys, "train", "--data", str(arr), "--out", str(tmp_path / "r"), match="uint8")
    assert not (tmp_path / "r").exists() or not (tmp_path / "r" / "checkpoint.json").exists()


def test_resume_errors(tmp_path, capsys):
    one_line_error(capsys, "train", "--resume", "--out", str(tmp_path), match="no checkpoint found")
    one_line_error(capsys, "train", "--resume", match="--out must name the run to continue")
    run_dir = tmp_path / "run"
    assert run(capsys, "train", "--out", str(run_dir), *FAST)[0] == 0
    pointer = run_dir / "checkpoint.json"
    folder = run_dir / json.loads(pointer.read_text())["path"]
    state = folder / "state.pt"
    state.write_bytes(state.read_bytes()[:-20])
    one_line_error(capsys, "train", "--resume", "--epochs", "3", "--out", str(run_dir),
                   match="state.pt: checkpoint is corrupted")
    pointer.write_text("{not json")
    one_line_error(capsys, "train", "--resume", "--out", str(run_dir), match="corrupted checkpoint pointer")


def test_eval_errors(tmp_path, capsys):
    one_line_error(capsys, "eval", str(tmp_path), match="no checkpoint found")
    run_dir = tmp_path / "run"
    assert run(capsys, "train", "--out", str(run_dir), *FAST)[0] == 0
    one_line_error(capsys, "eval", str(run_dir), "--k", "0", match="--k must be a positive integer; got 0")
    one_line_error(capsys, "eval", str(run_dir), "--k", "-3", match="--k must be a positive integer; got -3")
    one_line_error(capsys, "eval", str(run_dir), "--split", "dev", match="split 'dev'")
    one_line_error(capsys, "eval", str(run_dir), "--data", "frey", "--data-dir",
                   str(tmp_path / "nowhere"), match="frey")


def test_eval_refuses_model_dataset_shape_mismatch(tmp_path, capsys, mnist_full):
    run_dir = tmp_path / "run"
    assert run(capsys, "train", "--out", str(run_dir), *FAST)[0] == 0
    one_line_error(capsys, "eval", str(run_dir), "--data", "mnist", "--data-dir", str(mnist_full),
                   "--k", "2", match="the model expects images of shape (1, 8, 8)")


def test_download_from_a_local_mirror_then_eval_reads_it(tmp_path, capsys, monkeypatch, mnist_full):
    # the mirror serves full-count files built from tests/files: the download pins their checksums
    monkeypatch.setitem(RESOURCES, "mnist", tuple(Resource(f.name, *checksums(f)) for f in sorted(mnist_full.iterdir())))
    mirror = mnist_full.as_uri() + "/"
    code, out, err = run(capsys, "download", "mnist", "--data-dir", str(tmp_path), "--mirror", mirror)
    assert code == 0, err
    assert "verified" in out
    run_dir = tmp_path / "run"    # the downloaded files are found by --data-dir: eval reads them
    assert run(capsys, "train", "--out", str(run_dir), *FAST)[0] == 0
    one_line_error(capsys, "eval", str(run_dir), "--data", "mnist", "--data-dir", str(tmp_path), "--k", "2",
                   match="the model expects images of shape (1, 8, 8)")
    corrupt = tmp_path / "bad-mirror"
    corrupt.mkdir()
    for f in mnist_full.iterdir():
        data = f.read_bytes()
        (corrupt / f.name).write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    one_line_error(capsys, "download", "mnist", "--data-dir", str(tmp_path / "other"), "--mirror",
                   corrupt.as_uri() + "/", match="checksum")


@pytest.mark.parametrize("extra", [["--objective", "iwae", "--k", "3"], ["--warmup-epochs", "2"],
                                   ["--free-bits", "0.5"], ["--arch", "conv"], ["--likelihood", "gaussian"],
                                   ["--fast-path", "off"]])
def test_objectives_and_architectures_train(tmp_path, capsys, extra):
    code, out, err = run(capsys, "train", "--out", str(tmp_path / "run"), *FAST, *extra)
    assert code == 0, err
    saved = json.loads((tmp_path / "run" / "config.json").read_text())["fit"]
    assert str(saved[extra[0][2:].replace("-", "_")]) == extra[1]
    assert all(json.loads(line)["train_loss"] == json.loads(line)["train_loss"]    # finite, not NaN
               for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines())


def test_gmm_run_evaluates_with_exact_log_likelihood(tmp_path, capsys):
    out_dir = tmp_path / "gmm"
    code, _, err = run(capsys, "gmm", "--data", "digits", "--components", "3", "--out", str(out_dir), "--device", "cpu")
    assert code == 0, err
    code, out, err = run(capsys, "eval", str(out_dir), "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["model"] == "gmm" and report["k"] is None and report["elbo"] is None
    assert report["n"] == 359 and report["bits_per_dim"] > 0
    import vaekit
    from vaekit.data import load
    from vaekit.data.transforms import split_input

    gmm = vaekit.load(out_dir)
    x = split_input(load("digits", "test").images, "gaussian", "test")
    assert report["log_px"] == pytest.approx(gmm.log_prob(x).mean().item(), rel=1e-9)


def test_default_out_is_a_fresh_numbered_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for n in (1, 2):   # the second default run does not refuse: it gets the next number
        code, out, err = run(capsys, "train", *FAST, "--epochs", "1")
        assert code == 0, err
        assert out.splitlines()[0] == f"run directory: runs/digits-vae-{n}"
        assert (tmp_path / "runs" / f"digits-vae-{n}" / "checkpoint.json").is_file()


def test_library_errors_name_parameters_and_the_cli_shows_them_as_flags():
    from vaekit.cli.common import message
    from vaekit.errors import ConfigError, RunDirError

    e = RunDirError("out: already holds a vae run; use `resume=True` to continue it or choose another `out`")
    assert message(e) == "out: already holds a vae run; use --resume to continue it or choose another --out"
    e = ConfigError("`device='cuda'` was asked for (use `device='cpu'` or `device='auto'`)", setting="device")
    assert message(e) == "--device cuda was asked for (use --device cpu or --device auto)"
    e = ConfigError("components: too large; lower `components` or use `covariance='diag'`", setting="components")
    assert message(e) == "--components: too large; lower --components or use --covariance diag"
    e = ConfigError("data_dir='/tmp' would be ignored", setting="data_dir")
    assert message(e) == "--data-dir='/tmp' would be ignored"
    assert message(ConfigError("data_dir=1", setting="data")) == "data_dir=1"   # a whole name only
    # only the command's own flags: a parameter it has no flag for stays as the library wrote it
    e = ConfigError("hidden2 is too wide; lower `hidden2` or `latent`", setting="hidden2")
    assert message(e, {"--latent"}) == "hidden2 is too wide; lower `hidden2` or --latent"
    assert message(ValueError("`out` is a bug's text")) == "`out` is a bug's text"


def test_debug_before_or_after_the_subcommand_shows_the_traceback(tmp_path, capsys):
    for argv in (["--debug", "train"], ["train", "--debug"]):
        code, _, err = run(capsys, *argv, "--out", str(tmp_path / "r"), "--latent", "0")
        assert code == 2 and "Traceback" in err and err.rstrip().endswith("--latent must be a positive integer; got 0")


def test_help_does_not_import_torch():
    done = subprocess.run([sys.executable, "-c", "import sys; from vaekit.cli.main import main; code = main(['--help']);"
                           "print('torch' in sys.modules, code)"], capture_output=True, text=True)
    assert done.stdout.strip().endswith("False 0"), done


def test_flags_come_from_the_config_dataclasses(capsys):
    from dataclasses import fields

    from vaekit.data.download import DownloadConfig
    from vaekit.eval.config import EvalConfig
    from vaekit.lecture.plan import Plan
    from vaekit.rundir.sample import SampleConfig
    from vaekit.train import GMMFitConfig, TrainConfig
    from vaekit.web.config import ServeConfig

    for command, cls in (("train", TrainConfig), ("gmm", GMMFitConfig), ("eval", EvalConfig), ("serve", ServeConfig),
                         ("lecture", Plan), ("download", DownloadConfig), ("sample", SampleConfig)):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0
        text = "".join(out.split())   # argparse wraps lines, at hyphens too
        for f in fields(cls):   # every field is a flag, with its help text
            assert "--" + f.name.replace("_", "-") in text and "".join(f.metadata["help"].split()) in text, f.name


def test_every_device_flag_is_the_same_flag():
    """One definition (vaekit.settings.device_setting): every command that runs models has the same
    --device, with the same choices, default and help, and its dataclass refuses the same values."""
    import argparse

    from vaekit.cli.main import build_parser
    from vaekit.errors import ConfigError
    from vaekit.eval.config import EvalConfig
    from vaekit.lecture.plan import Plan
    from vaekit.settings import DEVICES
    from vaekit.train import GMMFitConfig, TrainConfig
    from vaekit.web.config import ServeConfig

    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)).choices
    flags = {name: next((a for a in parser._actions if "--device" in a.option_strings), None)
             for name, parser in commands.items()}
    assert {name for name, action in flags.items() if action is not None} == {"lecture", "train", "eval", "gmm",
                                                                                "serve", "sample"}
    shown = {(a.metavar, a.help, a.default, a.type) for a in flags.values() if a is not None}
    assert shown == {("{" + ",".join(DEVICES) + "}", "auto (default: a CUDA GPU if PyTorch sees one), cpu or cuda",
                      None, str)}
    from vaekit.rundir.sample import SampleConfig

    for cls in (TrainConfig, GMMFitConfig, EvalConfig, ServeConfig, Plan, SampleConfig):
        settings = {"data": "digits", "components": 2} if cls is GMMFitConfig else {}
        assert cls(**settings).device == "auto"
        with pytest.raises(ConfigError, match=r"^device must be one of auto, cpu, cuda; got 'tpu'$"):
            cls(**settings, device="tpu")


def test_linear_vae_on_linear_gaussian_data_reports_the_exact_log_px(tmp_path, capsys):
    """`--arch linear` on the generated linear-Gaussian data: eval adds the closed-form log p(x),
    which bounds the importance-sampled estimate and the ELBO from above (within noise)."""
    out_dir = tmp_path / "linear"
    code, _, err = run(capsys, "train", "--data", "linear-gaussian", "--arch", "linear", "--likelihood", "gaussian",
                       "--latent", "2", "--epochs", "3", "--lr", "0.03", "--device", "cpu", "--log-px-k", "5",
                       "--out", str(out_dir))
    assert code == 0, err
    assert (out_dir / "curves.png").is_file() and not (out_dir / "samples.png").exists()   # points, not images
    code, out, err = run(capsys, "eval", str(out_dir), "--k", "200", "--json")
    assert code == 0, err
    r = json.loads(out)
    assert r["log_px_exact"] >= r["log_px"] - 0.05 and r["log_px"] >= r["elbo"] - 0.05
    assert r["bits_per_dim_convention"].startswith("continuous data")
    code, out, _ = run(capsys, "eval", str(out_dir), "--k", "20")
    assert "log p(x) exact" in out
