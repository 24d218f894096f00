"""--time-budget: training stops when the budget is spent, the cosine schedule runs on the
elapsed share of it, metrics record the elapsed time, and a resume counts the time already spent."""

import json
import subprocess
import sys

import pytest

from vaekit.errors import ConfigError
from vaekit.train import TrainConfig, fit
from vaekit.train.loop import learning_rate

FAST = dict(data="digits", hidden=(32,), latent=4, log_px_every=0, epochs=100_000, lr_schedule="cosine", lr=3e-3)


@pytest.mark.parametrize("text, seconds", [("90s", 90.0), ("30m", 1800.0), ("1.5h", 5400.0), ("45", 45.0),
                                           (45, 45.0), (0.5, 0.5), (" 2M ", 120.0)])
def test_durations(text, seconds):
    assert TrainConfig(time_budget=text).time_budget == seconds


@pytest.mark.parametrize("bad", ["0", 0, "-5m", "abc", "30x", "", "inf", "nanm", True, [30]])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ConfigError, match="time_budget must be a positive duration"):
        TrainConfig(time_budget=bad)


def test_bad_budget_on_the_command_line_is_one_line_and_exit_2():
    r = subprocess.run([sys.executable, "-m", "vaekit", "train", "--time-budget=-3m"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--time-budget must be a positive duration" in r.stderr and "'-3m'" in r.stderr


def test_cosine_schedule_runs_on_the_elapsed_share_of_the_budget():
    cfg = TrainConfig(lr=0.01, lr_schedule="cosine", time_budget="100s")
    assert learning_rate(cfg, 1, elapsed=0.0) == pytest.approx(0.01)
    assert learning_rate(cfg, 7, elapsed=50.0) == pytest.approx(0.005)
    assert learning_rate(cfg, 9, elapsed=100.0) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(cfg, 9, elapsed=150.0) == pytest.approx(0.0, abs=1e-12)
    assert learning_rate(TrainConfig(lr=0.01, time_budget=100), 3, elapsed=50.0) == 0.01    # constant stays
    with pytest.raises(ValueError, match="needs the elapsed time"):
        learning_rate(cfg, 1)


def _overrun_allowance(history) -> float:
    """The budget may be overrun by at most about one epoch (the loop does not start an epoch that the
    last one says would overrun; an epoch can still run longer than the one before)."""
    times = [b["elapsed"] - a["elapsed"] for a, b in zip(history, history[1:])] or [history[0]["elapsed"]]
    return 2 * max(times)


def test_training_stops_when_the_budget_is_spent(tmp_path):
    budget = 1.5
    _, history = fit(TrainConfig(**FAST, time_budget=budget), tmp_path / "run")
    assert 1 <= len(history) < FAST["epochs"]
    elapsed = [r["elapsed"] for r in history]
    assert elapsed == sorted(elapsed) and elapsed[-1] <= budget + _overrun_allowance(history)
    assert elapsed[-1] >= budget - _overrun_allowance(history)                 # it used the budget
    written = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["elapsed"] for r in written] == elapsed                          # metrics.jsonl records it
    assert (tmp_path / "run" / "checkpoint.json").exists()


def test_a_resume_counts_the_time_already_spent(tmp_path):
    from vaekit.train.run import config_for_resume

    run = tmp_path / "run"
    _, first = fit(TrainConfig(**FAST, time_budget=0.8), run)
    spent = first[-1]["elapsed"]
    budget = spent + 0.8                                                       # 0.8 s more than already spent
    _, history = fit(config_for_resume(run, {"time_budget": budget}), run, resume=True)
    new = history[len(first):]
    assert new and new[0]["epoch"] == first[-1]["epoch"] + 1
    assert new[0]["elapsed"] > spent                                           # continues the clock
    assert history[-1]["elapsed"] <= budget + _overrun_allowance(history)      # the resumed session trained the
    assert history[-1]["elapsed"] >= budget - _overrun_allowance(history)      # rest of the budget, not a new one
    # a budget already spent trains nothing more
    _, again = fit(config_for_resume(run, {"time_budget": 0.5}), run, resume=True)
    assert len(again) == len(history)
