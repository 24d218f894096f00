"""A whole AE/VAE training run: ``fit(cfg, out) -> (model, history)``.

With ``out`` (a path or a locked ``RunDir``) every epoch's metrics and checkpoint go into the
run directory (layout: ``vaekit.rundir``); without it the model trains in memory.  Figures
are not drawn here: ``vaekit.viz.figures`` makes them from the returned model and history.
"""

from __future__ import annotations

import math
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import NamedTuple

import torch

from .. import distributed
from ..data import load as load_dataset
from ..data.transforms import TrainingBatches
from ..device import flush_denormals, resolve_device
from ..errors import CheckpointError, ConfigError, TrainingDiverged
from ..eval.elbo import elbo_means
from ..eval.likelihood import log_px
from ..models import ModelConfig, build_model
from ..rundir import (RunDir, damaged_state, load_checkpoint, read_config, read_metrics, run_config,
                      saved_model_config, status)
from ..rundir.layout import CONFIG
from ..threads import cpu_threads, training_threads
from .config import TrainConfig
from .limits import check_network
from .loop import handwritten_step, train_epoch
from .optim import check_state, make_optimizer, reordered

RESUMABLE = ("epochs", "time_budget", "device", "data_dir", "threads")   # settings that may change on resume


def model_config(cfg: TrainConfig, image_shape, classes: int = 2) -> ModelConfig:
    """The model ``cfg`` describes for images of ``image_shape``; ``classes``: the labels' count, for
    condition "label" (2, the fewest, where the data is not read yet)."""
    return ModelConfig(kind=cfg.model, arch=cfg.arch, image_shape=tuple(image_shape), hidden=cfg.hidden,
                       latent=cfg.latent, likelihood=cfg.resolved_likelihood(), prior=cfg.prior,
                       pseudo_inputs=cfg.pseudo_inputs if cfg.prior == "vamp" else 0,
                       stochastic_layers=cfg.stochastic_layers, latent2=cfg.latent2, hidden2=cfg.hidden2,
                       posterior=cfg.posterior, flow_steps=cfg.flow_steps if cfg.posterior == "iaf" else 0,
                       prior_components=cfg.prior_components if cfg.prior == "mog" else 0,
                       condition=cfg.condition, classes=classes if cfg.condition == "label" else 0)


def label_count(cfg: TrainConfig, splits) -> int:
    """The number of classes C of a dataset with labels 0..C-1, for condition "label" (0 without)."""
    if cfg.condition != "label":
        return 0
    missing = [s.split for s in splits if s.labels is None]
    if missing:
        raise ConfigError(f"condition=label needs a dataset with labels; {cfg.data} has none (its "
                          f"{'/'.join(missing)} split)", setting="condition")
    return max(int(s.labels.max()) + 1 for s in splits if len(s.labels)) if any(len(s.labels) for s in splits) else 0


def saved_config(run_dir: str | Path) -> TrainConfig:
    """The training settings a run was started with (CheckpointError if they cannot be read)."""
    config = read_config(run_dir)
    if config["kind"] == "gmm":
        raise ConfigError(f"{run_dir}: is a gmm run; `resume=True` continues vae and ae training runs "
                          "(fit a mixture again with vaekit gmm)")
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(config["fit"]) - known)
    if unknown:
        raise CheckpointError(f"{Path(run_dir) / 'config.json'}: damaged run config (unknown setting(s) "
                              f"{', '.join(unknown)})")
    try:
        return TrainConfig(**config["fit"])
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"{Path(run_dir) / 'config.json'}: damaged run config ({e})") from None


def config_for_resume(run_dir: str | Path, changes: dict) -> TrainConfig:
    """The saved settings of a run, with only ``RESUMABLE`` ones changed by ``changes``."""
    cfg = saved_config(run_dir)
    for key, value in changes.items():
        if value is None:
            continue
        changed = replace(cfg, **{key: value})       # parses the value as a fresh config would
        if getattr(changed, key) == getattr(cfg, key):
            continue
        if key not in RESUMABLE:
            raise ConfigError(f"{key} cannot change on `resume=True` (saved {getattr(cfg, key)!r}, got "
                              f"{getattr(changed, key)!r}); only {', '.join(RESUMABLE)} can", setting=key)
        cfg = changed
    return cfg


def load_splits(cfg):
    """The train, val and test splits of ``cfg.data``: every file a run needs, read before it starts."""
    return tuple(load_dataset(cfg.data, split, data_dir=cfg.data_dir, image_size=cfg.image_size)
                 for split in ("train", "val", "test"))


class Prepared(NamedTuple):
    """What ``prepare`` checked: the device, the (train, val, test) splits, the model's config."""
    device: torch.device
    splits: tuple
    model_config: object   # a ModelConfig, or a GMMConfig (``gmm_run.prepare_gmm``)


def prepare(cfg: TrainConfig, resume: str | Path | None = None) -> Prepared:
    """Everything a run can fail on before it writes anything: the device, every data file, the
    model's size against the device's memory, and ``fast_path on`` against the model's structure.

    ``resume``: the run to be continued; its checkpoint's model (from the weights' header, nothing
    allocated) must be the one ``cfg`` describes, and is the one built.
    """
    device = resolve_device(cfg.device)
    if cfg.precision == "bf16":
        check_bf16(device)
    if cfg.image_size is not None:   # before the images are resized to it: the smallest model it makes
        check_network(model_config(cfg, (1, cfg.image_size, cfg.image_size)), cfg.batch_size, device,
                      *cfg.codes_per_example(), image_size_given=True)
    splits = load_splits(cfg)
    if cfg.prior == "vamp" and cfg.pseudo_inputs > len(splits[0]):
        raise ConfigError(f"pseudo_inputs={cfg.pseudo_inputs} is more than the {len(splits[0]):,} training "
                          f"examples of {cfg.data}; expected 1 to {len(splits[0]):,}", setting="pseudo_inputs")
    if cfg.prior == "mog" and cfg.prior_components > len(splits[0]):
        raise ConfigError(f"prior_components={cfg.prior_components} is more than the {len(splits[0]):,} training "
                          f"examples of {cfg.data}; expected 1 to {len(splits[0]):,}", setting="prior_components")
    mcfg = model_config(cfg, splits[0].image_shape, label_count(cfg, splits))
    if resume is not None and status(Path(resume)) == "run":
        mcfg = same_model(resume, mcfg, saved_model_config(resume))
    check_network(mcfg, cfg.batch_size, device, *cfg.codes_per_example(),
                  image_size_given=cfg.image_size is not None)
    if cfg.fast_path == "on":
        with torch.device("meta"):   # the structure, without memory
            handwritten_step(build_model(mcfg), cfg)
    return Prepared(device, splits, mcfg)


def same_model(run_dir: str | Path, expected, saved):
    """``saved`` (the checkpoint's model config) if it is ``expected`` (what config.json describes);
    otherwise a CheckpointError naming what differs: config.json was edited or damaged."""
    if saved == expected:
        return saved
    differ = [f.name for f in fields(expected) if getattr(expected, f.name) != getattr(saved, f.name)]
    shown = lambda c: ", ".join(f"{n}={_value(getattr(c, n))}" for n in differ)   # noqa: E731
    raise CheckpointError(f"{Path(run_dir) / CONFIG}: describes a model with {shown(expected)}, but the checkpoint's "
                          f"model has {shown(saved)}; config.json was changed or damaged (the checkpoint is the "
                          "run's truth)")


def _value(v) -> str:
    return ",".join(map(str, v)) if isinstance(v, tuple) else str(v)


CPUINFO = Path("/proc/cpuinfo")
BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def check_bf16(device: torch.device, cpuinfo: Path = CPUINFO) -> None:
    """ConfigError unless ``device`` computes bfloat16 natively.

    A GPU must say so (``torch.cuda.is_bf16_supported``).  A CPU must have bfloat16
    instructions (``avx512_bf16`` or ``amx_bf16`` among /proc/cpuinfo's flags): without them
    PyTorch emulates bfloat16, many times slower than float32 (measured by ``bench/precision.py``:
    ``docs/performance.md``, "bf16 on a CPU without bfloat16 instructions").  Where
    /proc/cpuinfo does not exist (not Linux), the CPU is taken at its word.
    """
    if device.type == "cuda":
        if not torch.cuda.is_bf16_supported():
            raise ConfigError(f"precision bf16: the GPU {torch.cuda.get_device_name(device)} has no bfloat16 "
                              "support; use precision fp32", setting="precision")
        return
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return
    flags = set(" ".join(line.split(":", 1)[1] for line in text.splitlines() if line.startswith("flags")).split())
    if not flags.intersection(BF16_CPU_FLAGS):
        raise ConfigError("precision bf16: this CPU has no bfloat16 instructions (neither avx512_bf16 nor amx_bf16 "
                          "in /proc/cpuinfo), so PyTorch would emulate them, several times slower than float32; "
                          "use precision fp32", setting="precision")


def fit(cfg: TrainConfig, out: str | Path | RunDir | None = None, *, resume: bool = False, progress=None,
        on_epoch=None, command: list[str] | None = None, prepared: Prepared | None = None):
    """Train an AE or VAE (or, with ``resume``, continue the run in ``out``); returns (model, history).

    history: one dict per epoch (``epoch``, ``train_loss``, ``val_loss`` = val -ELBO,
    ``val_recon``, ``val_kl``, ``seconds``, ``val_seconds``, ``elapsed`` = seconds of the run so
    far, counting earlier sessions of a resumed run, every ``log_px_every`` epochs
    ``val_log_px`` (importance-sampled), and every epoch ``val_log_px_exact`` where the model
    has an exact log p(x) (``VAE.has_exact_log_prob``: arch linear, kind vae); nats per
    example).  ``progress(iterable, epoch)`` may wrap the step loop (a progress bar);
    ``on_epoch(record)`` is called once the epoch's checkpoint is on disk.  A non-finite
    training or validation loss raises TrainingDiverged before that epoch's checkpoint.
    ``prepared``: what ``prepare(cfg)`` returned, if the caller checked before making ``out``.
    Under torchrun call it on every rank with the same arguments: rank 0 alone opens and writes
    ``out`` (a path; or pass rank 0 its ``RunDir`` and the others None), every rank trains its
    share of each batch (``train.loop.train_epoch``) and returns the same model.
    """
    if resume and out is None and distributed.is_main():   # under torchrun only rank 0 holds the run
        raise ValueError("resume needs the run directory to continue (out)")
    resumed = (out.path if isinstance(out, RunDir) else out) if resume else None
    prepared = prepared if prepared is not None else prepare(cfg, resume=resumed)
    run = out
    if out is not None and not isinstance(out, RunDir):   # under torchrun only rank 0 opens the run
        opened = {}

        def open_run():
            opened["run"] = RunDir.resume(out) if resume else RunDir.create(out, "train")

        distributed.on_main(open_run)
        run = opened.get("run")
    try:
        return _fit(cfg, prepared, run, resume, progress, on_epoch, command)
    finally:
        if run is not None and run is not out:
            run.close()


def _fit(cfg, prepared, run, resume, progress, on_epoch, command):
    device, (train, val, test), mcfg = prepared
    model = build_model(mcfg, cfg.seed).to(device)
    optimizer = make_optimizer(model, cfg.lr)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    history: list[dict] = []
    world = distributed.world_size()

    def open_run():
        """Rank 0 (the only rank with a run directory): config.json, and on resume the checkpoint's
        state, returned to be sent to the other ranks (no other rank reads the files)."""
        nonlocal history
        if run is None:
            return None
        loaded = None
        if resume:
            _check_resumable(run.path, cfg)
            config = read_config(run.path)
            config["fit"] = cfg.to_dict()
            config["device"] = str(device)
            config["resumed"] = [*config.get("resumed", []), list(command)]
            config["resumed_world_sizes"] = [*config.get("resumed_world_sizes", []), world]
            if status(run.path) == "run":   # else a half-made run, killed before its first checkpoint: start over
                saved, state, record = load_checkpoint(run.path, want_state=True)
                same_model(run.path, mcfg, saved.config)
                optimizer_state = _cpu(state.get("optimizer"))
                if saved.loaded_before_parts:   # saved before the models had parts: the pseudo-inputs moved
                    optimizer_state = reordered(optimizer_state, saved.positions_before_parts())
                loaded = {"model": _cpu(saved.state_dict()), "optimizer": optimizer_state,
                          "generator": state.get("generator"), "epoch": state["epoch"]}
                restore(model, optimizer, generator, loaded, run.path, record)   # checked here, before any rank trains
                history = read_metrics(run.path, upto=state["epoch"])
        else:
            config = run_config(cfg.model, mcfg.to_dict(), cfg.to_dict(),
                                {"name": cfg.data, "image_shape": list(train.image_shape), "n_train": len(train),
                                 "n_val": len(val), "n_test": len(test)}, str(device), command)
            config["world_size"] = world
        run.write_config(config)
        return loaded

    if run is not None:
        command = command if command is not None else ["vaekit"]
    loaded = distributed.on_main(open_run)
    start_epoch = 0
    if loaded is not None:
        if not distributed.is_main():   # rank 0 restored its own in open_run
            restore(model, optimizer, generator, loaded)
        start_epoch = loaded["epoch"]
    distributed.broadcast_parameters(model)   # identical starting weights on every rank (they are, by seed)

    batches = TrainingBatches(train.images.to(device), mcfg.likelihood)
    val_x = val.model_input(mcfg.likelihood, device=device)
    if mcfg.condition == "label":   # each image's class, beside it on the device
        batches.labels, val_y = train.labels.to(device), val.labels.to(device)
    else:
        val_y = None
    # Wall time of the run, counting earlier sessions (their last record's ``elapsed``): the
    # time budget and its schedule run on it.
    spent = time_spent(history)
    clock = time.monotonic()
    last_epoch = 0.0
    for epoch in range(start_epoch + 1, cfg.epochs + 1):
        elapsed = spent + time.monotonic() - clock
        if cfg.time_budget is not None:
            elapsed = distributed.broadcast_object(elapsed)   # rank 0's clock: one schedule, one stop for all
            if elapsed + last_epoch > cfg.time_budget:         # the next epoch would overrun the budget
                if epoch == 1:   # not one epoch trained: nothing to show, so nothing that looks like a run
                    if run is not None:
                        run.discard()
                    raise ConfigError(f"time_budget: {cfg.time_budget:g} s ended before the first epoch could "
                                      "start; nothing was trained or kept (give the run at least one epoch's time)",
                                      setting="time_budget")
                break
        result = train_epoch(model, optimizer, batches, cfg, epoch, generator, progress, elapsed=elapsed)
        record = {"epoch": epoch, "train_loss": result.train_loss, "seconds": result.seconds}
        record.update(validate(model, val_x, cfg, epoch, device, val_y))
        record["elapsed"] = spent + time.monotonic() - clock
        last_epoch = record["elapsed"] - elapsed
        bad = [k for k in ("val_loss", "val_log_px") if k in record and not math.isfinite(record[k])]
        if bad:
            raise TrainingDiverged(f"non-finite validation loss at epoch {epoch} ({bad[0]} = {record[bad[0]]})")
        history.append(record)
        if run is not None:   # rank 0 only: metrics and checkpoint, each written atomically
            run.write_metrics(history)
            run.save_checkpoint(model, {"optimizer": optimizer.state_dict(), "generator": generator.get_state(),
                                        "epoch": epoch}, epoch)
        if on_epoch is not None and distributed.is_main():
            on_epoch(record)
    distributed.agree_checksum(model)   # every rank took the same steps: the same weights, or an error
    model.eval()
    return model, history


def restore(model, optimizer, generator, loaded: dict, run_dir=None, record=None) -> None:
    """A checkpoint's weights, optimizer and random state into ``model``, ``optimizer``, ``generator``.

    A state.pt whose epoch reads but whose optimizer or generator is missing or damaged (another
    model's optimizer, moments of the wrong shape, a generator state of the wrong size) is a
    CheckpointError naming the file (``run_dir`` and the pointer ``record``), not the KeyError,
    ValueError or RuntimeError torch raises, and never a step that fails halfway.
    """
    try:
        model.load_state_dict(loaded["model"])
        for key, kind in (("optimizer", dict), ("generator", torch.Tensor)):
            if not isinstance(loaded[key], kind):
                got = "nothing" if loaded[key] is None else type(loaded[key]).__name__
                raise TypeError(f"expected {key} to be a {kind.__name__}; got {got}")
        optimizer.load_state_dict(loaded["optimizer"])
        check_state(optimizer)
        generator.set_state(loaded["generator"])
    except (KeyError, AttributeError, TypeError, ValueError, RuntimeError, IndexError) as e:
        why = f"no {e.args[0]!r} in its optimizer state" if isinstance(e, KeyError) and e.args else \
            " ".join(str(e).split())[:200] or type(e).__name__
        if run_dir is None:
            raise CheckpointError(f"the training state is damaged ({why})") from None
        raise damaged_state(run_dir, record, why) from None


def time_spent(history: list[dict]) -> float:
    """Seconds a run has trained so far: the latest ``elapsed`` of its records that is a time.

    The records come from metrics.jsonl, which may be damaged ("elapsed": null, "abc", -5):
    metrics never block a resume, so such a value is passed over (the clock then continues
    from an earlier record's, or from 0).
    """
    for record in reversed(history):
        value = record.get("elapsed")
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < math.inf:
            return float(value)
    return 0.0


def _cpu(obj):
    """A state dict with every tensor on the CPU, to be sent to the other ranks."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_cpu(v) for v in obj)
    return obj


def _check_resumable(run_dir: Path, cfg: TrainConfig) -> None:
    saved = saved_config(run_dir)
    for f in fields(TrainConfig):
        if f.name not in RESUMABLE and getattr(saved, f.name) != getattr(cfg, f.name):
            raise ConfigError(f"{f.name} cannot change on `resume=True` (saved {getattr(saved, f.name)!r}, got "
                              f"{getattr(cfg, f.name)!r}); only {', '.join(RESUMABLE)} can", setting=f.name)


@torch.no_grad()
def validate(model, val_x: torch.Tensor, cfg: TrainConfig, epoch: int, device, val_y=None) -> dict:
    """Val negative ELBO (and, every ``log_px_every`` epochs, log p(x) with k = log_px_k), nats.

    A model with an exact log p(x) (the linear VAE) also gets it every epoch, ``val_log_px_exact``:
    one pass over the val set in closed form, cheap next to the estimate.
    """
    model.eval()
    start = time.perf_counter()
    threads = training_threads(cfg.threads, model, cfg.batch_size, device)
    # Fresh generators per epoch: validation never disturbs the training random stream.  Each
    # batch has its own seeded generator, the batches shared among torchrun's ranks and the
    # sums reduced (``eval.shards``): the same numbers on 1 or W processes.
    seed = (cfg.seed + epoch) % 2 ** 62
    with flush_denormals(device), cpu_threads(threads):
        means = elbo_means(model, val_x, seed=seed, y=val_y)
        record = {"val_loss": -means["elbo"], "val_recon": means["recon"], "val_kl": means["kl"]}
        due = cfg.log_px_every and cfg.model == "vae" and (epoch % cfg.log_px_every == 0 or epoch == cfg.epochs)
        if due:
            lp = log_px(model, val_x, k=cfg.log_px_k, seed=seed + 2 ** 62, y=val_y)
            total, count = distributed.sum_floats(lp.double().sum().item(), len(lp))
            record["val_log_px"] = total / count
        if model.has_exact_log_prob:
            record["val_log_px_exact"] = model.exact_log_prob(val_x).double().mean().item()
    record["val_seconds"] = time.perf_counter() - start
    return record
