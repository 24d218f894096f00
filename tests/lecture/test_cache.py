"""The lecture's run cache: train once, reuse, resume what was interrupted, retrain only what changed."""

import json
from dataclasses import replace

import pytest
import torch

from vaekit.errors import RunDirError
from vaekit.lecture.cache import RunCache, run_id
from vaekit.train.config import GMMFitConfig, TrainConfig

CFG = TrainConfig(data="digits", hidden=(16,), latent=2, epochs=2, log_px_every=0, device="cpu")


class Events:
    def __init__(self):
        self.seen = []

    def run_started(self, name, total, cached):
        self.seen.append(("started", name, total, cached))

    def run_step(self, name, done):
        self.seen.append(("step", name, done))


def test_trains_once_then_reuses_and_a_changed_setting_is_a_new_run(tmp_path):
    events = Events()
    cache = RunCache(tmp_path, torch.device("cpu"), events)
    first = cache.get("tiny", CFG)
    assert not first.cached and len(first.history) == 2 and first.path.name == f"tiny-{run_id(CFG)}"
    assert ("step", "tiny", 2) in events.seen
    again = cache.get("tiny", CFG)
    assert again.cached and again.path == first.path
    assert torch.equal(again.model.decoder.net[-1].weight, first.model.decoder.net[-1].weight)
    assert events.seen[-1] == ("started", "tiny", 2, True)
    other = cache.get("tiny", replace(CFG, seed=1))
    assert not other.cached and other.path != first.path and first.path.is_dir()
    # the device does not make a run different
    assert run_id(replace(CFG, device="cuda")) == run_id(CFG)


def test_an_interrupted_run_continues_from_its_checkpoint(tmp_path):
    cache = RunCache(tmp_path, torch.device("cpu"))
    short = cache.get("tiny", replace(CFG, epochs=1))
    # the same run, stopped after one of its two epochs: its folder under the two-epoch name
    target = cache.path("tiny", CFG)
    short.path.rename(target)
    config = json.loads((target / "config.json").read_text())
    config["fit"]["epochs"] = 2
    (target / "config.json").write_text(json.dumps(config))
    events = Events()
    cache.listener = events
    done = cache.get("tiny", CFG)
    assert not done.cached and [r["epoch"] for r in done.history] == [1, 2]
    assert [e for e in events.seen if e[0] == "step"] == [("step", "tiny", 2)]   # epoch 1 was not trained again


def test_a_gmm_run_is_cached_too(tmp_path):
    cfg = GMMFitConfig(data="digits", components=2, device="cpu", max_iter=5)
    cache = RunCache(tmp_path, torch.device("cpu"))
    first = cache.get("gmm", cfg)
    assert not first.cached and first.history and first.model.log_prob_is_exact
    assert cache.get("gmm", cfg).cached


def test_a_foreign_folder_under_the_run_name_is_refused(tmp_path):
    cache = RunCache(tmp_path, torch.device("cpu"))
    path = cache.path("tiny", CFG)
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("mine")
    with pytest.raises(RunDirError, match="is not a vaekit run"):
        cache.get("tiny", CFG)
    assert (path / "notes.txt").read_text() == "mine"


def _cached_without(tmp_path, setting):
    """A finished run of CFG whose config.json lacks ``setting``, as one cached by an earlier vaekit would."""
    cache = RunCache(tmp_path, torch.device("cpu"))
    first = cache.get("tiny", CFG)
    config_path = first.path / "config.json"
    config = json.loads(config_path.read_text())
    del config["fit"][setting]
    config_path.write_text(json.dumps(config))
    return cache, first, config_path, config


@pytest.mark.parametrize("setting", ["threads", "anneal_k"])
def test_a_run_from_before_a_setting_is_reused_not_misread(tmp_path, setting):
    """Runs cached by an earlier vaekit lack the settings added since (``threads``, which only decides how a run
    was computed, like the device; ``anneal_k``, at its default 0): the same run is found finished and reused; a
    run whose other settings differ is trained anew beside it."""
    cache, first, _, _ = _cached_without(tmp_path, setting)
    again = cache.get("tiny", CFG)
    assert again.cached and again.path == first.path and cache.finished("tiny", CFG)
    other = cache.get("tiny", replace(CFG, latent=3))
    assert not other.cached and other.path != first.path


def test_a_runs_id_is_its_settings_apart_from_the_defaults(tmp_path):
    """threads never changes a run's id; a setting at its default is as if absent, another value is another run;
    a saved setting this vaekit does not know never matches."""
    assert run_id(CFG) == run_id(replace(CFG, threads=2))
    annealed = TrainConfig(data="spiral", objective="iwae", k=8, anneal_std=(0.3, 0.02), anneal_std_epochs=1)
    assert run_id(replace(annealed, anneal_k=4)) != run_id(annealed) == run_id(replace(annealed, anneal_k=0))
    cache, _, config_path, config = _cached_without(tmp_path, "anneal_k")
    config["fit"]["from_the_future"] = 1
    config_path.write_text(json.dumps(config))
    assert not cache.finished("tiny", CFG)
    with pytest.raises(RunDirError, match="holds a run with other settings than its name says"):
        cache.get("tiny", CFG)


def test_train_all_trains_side_by_side_what_is_missing(tmp_path):
    cache = RunCache(tmp_path, torch.device("cpu"))
    runs = {"a": CFG, "b": replace(CFG, seed=1), "g": GMMFitConfig(data="digits", components=2, device="cpu",
                                                                   max_iter=3)}
    cache.get("a", CFG)                                       # already there: not trained again
    assert cache.train_all(runs, workers=2) == 2
    assert all(cache.finished(name, cfg) for name, cfg in runs.items())
    assert cache.train_all(runs, workers=2) == 0
    # the same settings trained in a worker or here give the same weights
    here = RunCache(tmp_path / "here", torch.device("cpu")).get("b", runs["b"]).model
    there = cache.get("b", runs["b"]).model
    for p, q in zip(here.parameters(), there.parameters()):
        assert torch.equal(p, q)
