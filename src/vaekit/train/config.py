"""Training settings: one frozen dataclass, the single source of the CLI's flags.

Config flows one way: ``TrainConfig`` defaults -> ``--config FILE.toml`` -> flags -> saved
(resolved) in the run's ``config.json``.  Each field's metadata holds its help text; the
CLI makes one flag per field from it (``cli/flags.py``), so a new field is a new flag.
Unknown keys, wrong types, non-finite numbers and settings that would be silently ignored
are errors naming the setting.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .. import validate
from ..errors import ConfigError
from ..fileio import UnsafeFile, read_bytes
from ..models.config import (ARCHS, CONDITIONS, COVARIANCES, LIKELIHOODS, MAX_FLOW_STEPS, MODEL_KINDS, POSTERIORS,
                             PRIORS, check_condition, check_layers, check_posterior, check_prior)
from ..settings import check_choices, device_setting, setting

OBJECTIVES = ("elbo", "iwae")
LR_SCHEDULES = ("constant", "cosine")
FAST_PATHS = ("auto", "on", "off")
PRECISIONS = ("fp32", "bf16")
MAX_THREADS = 1024
DEFAULT_PSEUDO_INPUTS = 500
DEFAULT_PRIOR_COMPONENTS = 10
DEFAULT_FLOW_STEPS = 2
TOML_LIMIT = 1 << 20    # bytes of a --config file (a settings file is a few hundred)
MAX_LOG_PX_K = 10_000   # val log p(x) during training is a progress signal; use `vaekit eval --k` for more


@dataclass(frozen=True)
class TrainConfig:
    data: str = setting("digits", "digits (default), mnist, fashion-mnist, frey, or a path to images/.npy/.npz")
    data_dir: str | None = setting(None, "folder holding the dataset's files (mnist, fashion-mnist, frey)",
                                   metavar="DIR")
    image_size: int | None = setting(None, "resize every image to N x N", metavar="N")
    model: str = setting("vae", "vae (default) or ae, the plain autoencoder", choices=MODEL_KINDS)
    arch: str = setting("mlp", "mlp (default), conv, or linear (probabilistic PCA's model, with an exact "
                               "log p(x); needs likelihood gaussian, no --hidden)", choices=ARCHS)
    hidden: tuple[int, ...] = setting((400,), "hidden layer widths, e.g. 400 (default) or 512,256", metavar="W[,W...]")
    latent: int = setting(20, "size of the code z (default 20)")
    likelihood: str = setting("auto", "bernoulli, gaussian, or auto (default: gaussian for frey, else bernoulli)",
                              choices=("auto", *LIKELIHOODS))
    prior: str = setting("standard", "standard (default: N(0, I)), vamp (the VampPrior: a mixture of the "
                                     "encoder's posteriors at learned pseudo-inputs) or mog (a learned mixture of "
                                     "--prior-components Gaussians)", choices=PRIORS)
    pseudo_inputs: int = setting(DEFAULT_PSEUDO_INPUTS, f"pseudo-inputs K of --prior vamp (default "
                                                        f"{DEFAULT_PSEUDO_INPUTS}; at most the training examples)",
                                 metavar="K")
    prior_components: int = setting(DEFAULT_PRIOR_COMPONENTS, f"components K of --prior mog (default "
                                                              f"{DEFAULT_PRIOR_COMPONENTS}; at most the training "
                                                              "examples)", metavar="K")
    stochastic_layers: int = setting(1, "1 (default) or 2: x -> z1 -> z2, the IWAE paper's hierarchy (with "
                                        "--latent the size of z1, --latent2 of z2, --hidden2 the widths between)",
                                     metavar="N")
    latent2: int = setting(0, "size of z2 with --stochastic-layers 2 (the IWAE paper: --hidden 200,200 --latent "
                              "100 --hidden2 100,100 --latent2 50)", metavar="L2")
    hidden2: tuple[int, ...] = setting((), "widths of the layers between z1 and z2 with --stochastic-layers 2, "
                                           "e.g. 100,100", metavar="W[,W...]")
    posterior: str = setting("diag", "diag (default: q(z|x) = N(m, diag exp(σ))) or iaf (that Gaussian, then "
                                     "--flow-steps inverse autoregressive flow steps)", choices=POSTERIORS)
    flow_steps: int = setting(DEFAULT_FLOW_STEPS, f"flow steps K of --posterior iaf (default {DEFAULT_FLOW_STEPS}, "
                                                  f"at most {MAX_FLOW_STEPS})", metavar="K")
    condition: str = setting("none", "none (default) or label: a conditional VAE, q(z|x, y) and p(x|z, y) with y "
                                     "each image's class (a dataset with labels)", choices=CONDITIONS)
    objective: str = setting("elbo", "elbo (default) or iwae", choices=OBJECTIVES)
    beta: float = setting(1.0, "weight of the KL term, --objective elbo (default 1: the true bound)")
    k: int = setting(1, "importance samples per example for --objective iwae (default 1)")
    warmup_epochs: int = setting(0, "ramp the KL weight from 0 to beta over N epochs (default 0)", metavar="N")
    anneal_std: tuple[float, ...] = setting((), "F0,F1: for the first --anneal-std-epochs epochs, train the Gaussian "
                                                 "decoder's means under a fixed std f in place of its own, f falling "
                                                 "geometrically from F0 to F1 (the means spread along the data before "
                                                 "a variance can cover it), its own variance fitted alongside; then "
                                                 "its own. Needs --objective iwae, a Gaussian likelihood; e.g. "
                                                 "0.3,0.02", metavar="F0,F1")
    anneal_std_epochs: int = setting(0, "epochs over which --anneal-std's f falls; after them, the decoder's own "
                                        "variance (default 0: off)", metavar="N")
    anneal_k: int = setting(0, "importance samples per example while --anneal-std's f is fixed (default 0: --k); "
                               "e.g. --k 128 --anneal-k 16: the cheap bound while the means spread, the tight one "
                               "once the decoder's own variance is back", metavar="K")
    free_bits: float = setting(0.0, "charge each latent dimension at least this many nats of KL (default 0)",
                               metavar="NATS")
    epochs: int = setting(50, "number of epochs (default 50; with --time-budget, the most)")
    time_budget: str | float | None = setting(None, "stop when this much wall time is spent: 90s, 30m, 1.5h (or "
                                                    "seconds); the cosine schedule then runs on the elapsed share "
                                                    "of the budget", metavar="TIME")
    batch_size: int = setting(128, "examples per step (default 128)")
    lr: float = setting(1e-3, "Adam learning rate (default 1e-3)")
    lr_schedule: str = setting("constant", "constant (default) or cosine (anneal to 0 over --epochs, or over "
                                           "--time-budget)",
                               choices=LR_SCHEDULES)
    seed: int = setting(0, "random seed (default 0)")
    device: str = device_setting()
    log_px_every: int = setting(5, "estimate val log p(x) every N epochs (0: never; default 5)", metavar="N")
    log_px_k: int = setting(100, f"importance samples for that estimate (default 100, at most {MAX_LOG_PX_K})")
    precision: str = setting("fp32", "fp32 (default) or bf16: the training step's matrix products in bfloat16 "
                                     "(torch.autocast; autograd path); evaluation stays float32",
                             choices=PRECISIONS)
    fast_path: str = setting("auto", "the hand-written step of the default MLP/Bernoulli VAE: auto (default: "
                                     "where the model's structure allows), on (error if it does not), off",
                             choices=FAST_PATHS)
    threads: int = setting(0, "CPU threads for training: 0 (default) = one for models too small to split "
                              "(fewer than 3e8 FLOPs a step), else PyTorch's (one per core); N = N threads",
                           metavar="N")

    def __post_init__(self):
        hidden = _widths("hidden", self.hidden)
        hidden = validate.sizes("hidden", (hidden,) if isinstance(hidden, int) and not isinstance(hidden, bool)
                                else hidden)
        object.__setattr__(self, "hidden", hidden)
        check_choices(self)
        object.__setattr__(self, "anneal_std", _stds("anneal_std", self.anneal_std))
        object.__setattr__(self, "hidden2", check_layers(self.model, self.arch, self.prior, self.stochastic_layers,
                                                         self.latent2, _widths("hidden2", self.hidden2)))
        for name in ("latent", "epochs", "batch_size", "k", "pseudo_inputs", "prior_components"):
            validate.positive_int(name, getattr(self, name))
        validate.integer("flow_steps", self.flow_steps, 1, MAX_FLOW_STEPS)
        validate.integer("log_px_k", self.log_px_k, 1, MAX_LOG_PX_K)
        for name in ("warmup_epochs", "log_px_every", "anneal_std_epochs", "anneal_k"):
            validate.integer(name, getattr(self, name), low=0)
        validate.integer("threads", self.threads, 0, MAX_THREADS)
        validate.seed("seed", self.seed)
        if self.time_budget is not None:   # stored in seconds
            object.__setattr__(self, "time_budget", validate.duration("time_budget", self.time_budget))
        if self.image_size is not None:
            validate.positive_int("image_size", self.image_size)
        validate.text("data", self.data)
        validate.text("data_dir", self.data_dir, optional=True)
        validate.number("lr", self.lr, positive=True)
        validate.number("beta", self.beta, low=0)
        validate.number("free_bits", self.free_bits, low=0)
        for name in ("lr", "beta", "free_bits"):   # ints from TOML are fine; store floats
            object.__setattr__(self, name, float(getattr(self, name)))
        self._refuse_ignored()

    def _refuse_ignored(self) -> None:
        """A setting that would have no effect is an error saying why (never silently ignored)."""
        self._check_anneal_std()
        kl_settings = [f"{n}={getattr(self, n)}" for n, default in (("beta", 1.0), ("warmup_epochs", 0),
                                                                    ("free_bits", 0.0))
                       if getattr(self, n) != default]
        if self.model == "ae" and (kl_settings or self.objective != "elbo"):
            what = ", ".join(kl_settings) or f"objective={self.objective}"
            raise ConfigError(f"{what} would be ignored: a plain autoencoder (model=ae) has no KL term and no "
                              "q(z|x); drop it or use model=vae", setting=(kl_settings[0].split("=")[0]
                                                                            if kl_settings else "objective"))
        check_prior(self.model, self.arch, self.prior)
        check_posterior(self.model, self.prior, self.stochastic_layers, self.posterior)
        check_condition(self.arch, self.prior, self.condition)
        if self.free_bits and (self.prior != "standard" or self.stochastic_layers == 2 or self.posterior != "diag"):
            model = (f"prior={self.prior}" if self.prior != "standard" else
                     "stochastic_layers=2" if self.stochastic_layers == 2 else f"posterior={self.posterior}")
            raise ConfigError(f"free_bits={self.free_bits} cannot be charged with {model}: its KL has no closed form "
                              "per dimension (one estimate for the whole code)", setting="free_bits")
        if self.prior != "vamp" and self.pseudo_inputs != DEFAULT_PSEUDO_INPUTS:
            raise ConfigError(f"pseudo_inputs={self.pseudo_inputs} would be ignored: only prior=vamp has "
                              "pseudo-inputs", setting="pseudo_inputs")
        if self.prior != "mog" and self.prior_components != DEFAULT_PRIOR_COMPONENTS:
            raise ConfigError(f"prior_components={self.prior_components} would be ignored: only prior=mog has "
                              "components", setting="prior_components")
        if self.posterior != "iaf" and self.flow_steps != DEFAULT_FLOW_STEPS:
            raise ConfigError(f"flow_steps={self.flow_steps} would be ignored: only posterior=iaf has flow steps",
                              setting="flow_steps")
        if self.k != 1 and self.objective != "iwae":
            raise ConfigError(f"k={self.k} would be ignored: importance samples are used by objective=iwae only",
                              setting="k")
        if self.objective == "iwae" and kl_settings:
            raise ConfigError(f"{', '.join(kl_settings)} would be ignored: they weigh the KL term of "
                              "objective=elbo; the IWAE bound has none", setting=kl_settings[0].split("=")[0])
        if self.arch == "linear":
            if self.hidden != TrainConfig.hidden:
                raise ConfigError(f"hidden={','.join(map(str, self.hidden))} would be ignored: arch=linear has no "
                                  "hidden layers (one linear map each way); drop it or use arch=mlp", setting="hidden")
            if self.resolved_likelihood() != "gaussian":
                got = repr(self.likelihood) + (f" (bernoulli for {self.data})" if self.likelihood == "auto" else "")
                raise ConfigError(f"likelihood must be gaussian for arch=linear (a linear decoder's mean is "
                                  f"unbounded, not a probability); got {got}", setting="likelihood")
        if self.precision == "bf16" and self.fast_path == "on":
            raise ConfigError("fast_path=on cannot train with precision=bf16: the hand-written step computes in "
                              "float32; use fast_path auto (autograd under bf16 autocast) or precision fp32",
                              setting="fast_path")
        _refuse_unused_data_dir(self.data, self.data_dir)
        if self.log_px_every == 0 and self.log_px_k != 100:
            raise ConfigError(f"log_px_k={self.log_px_k} would be ignored: log_px_every=0 turns the estimate off",
                              setting="log_px_k")

    def _check_anneal_std(self) -> None:
        """--anneal-std replaces a Gaussian p(x|z)'s variance inside the IWAE bound (``train.loop.annealed_std``)."""
        if not self.anneal_std:
            if self.anneal_std_epochs:
                raise ConfigError(f"anneal_std_epochs={self.anneal_std_epochs} would be ignored: it is the length "
                                  "of anneal_std's schedule; give anneal_std too (e.g. 0.3,0.02)",
                                  setting="anneal_std_epochs")
            if self.anneal_k:
                raise ConfigError(f"anneal_k={self.anneal_k} would be ignored: it is the k of anneal_std's epochs; "
                                  "give anneal_std too (e.g. 0.3,0.02), or use k", setting="anneal_k")
            return
        shown = ",".join(f"{f:g}" for f in self.anneal_std)
        if self.model == "ae":
            raise ConfigError(f"anneal_std={shown} would be ignored: a plain autoencoder (model=ae) has no bound to "
                              "train under a fixed variance; drop it or use model=vae", setting="anneal_std")
        if self.resolved_likelihood() != "gaussian":
            got = repr(self.likelihood) + (f" (bernoulli for {self.data})" if self.likelihood == "auto" else "")
            raise ConfigError(f"anneal_std needs likelihood gaussian: it stands in for a Gaussian decoder's "
                              f"variance, and a Bernoulli p(x|z) has none; got {got}", setting="anneal_std")
        if self.objective != "iwae":
            raise ConfigError(f"anneal_std needs objective iwae (the bound it is trained under; k = 1 is the ELBO "
                              f"with its KL estimated at the code); got {self.objective!r}", setting="anneal_std")
        if not self.anneal_std_epochs:
            raise ConfigError("anneal_std needs anneal_std_epochs, the epochs over which f falls from "
                              f"{self.anneal_std[0]:g} to {self.anneal_std[1]:g} (e.g. 40); got 0",
                              setting="anneal_std")

    def resolved_likelihood(self) -> str:
        from ..data.registry import default_likelihood

        return default_likelihood(self.data) if self.likelihood == "auto" else self.likelihood

    def codes_per_example(self) -> tuple[int, str]:
        """The most codes drawn per example in a training step, and the setting that gives it: (k, "k") for
        the IWAE bound, (anneal_k, "anneal_k") where the annealed epochs draw more, else (1, "k")."""
        if self.objective != "iwae":
            return 1, "k"
        return (self.anneal_k, "anneal_k") if self.anneal_k > self.k else (self.k, "k")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GMMFitConfig:
    data: str = setting(None, "digits, mnist, fashion-mnist, frey, or a path to images/.npy/.npz", required=True)
    components: int = setting(None, "number of mixture components M", required=True, metavar="M")
    covariance: str = setting("diag", "diag (default) or full", choices=COVARIANCES)
    data_dir: str | None = setting(None, "folder holding the dataset's files", metavar="DIR")
    image_size: int | None = setting(None, "resize every image to N x N", metavar="N")
    max_iter: int = setting(100, "most EM iterations (default 100)", metavar="N")
    tol: float = setting(1e-3, "stop when the mean train log-likelihood improves by less than this, nats "
                               "(default 1e-3)", metavar="NATS")
    reg_covar: float = setting(1e-6, "added to every variance (default 1e-6)")
    seed: int = setting(0, "seeds the dequantisation and the k-means++ start (default 0)")
    device: str = device_setting()

    def __post_init__(self):
        validate.text("data", self.data)
        validate.positive_int("components", self.components)
        check_choices(self)
        validate.positive_int("max_iter", self.max_iter)
        validate.number("tol", self.tol, low=0)
        validate.number("reg_covar", self.reg_covar, low=0)
        validate.seed("seed", self.seed)
        if self.image_size is not None:
            validate.positive_int("image_size", self.image_size)
        validate.text("data_dir", self.data_dir, optional=True)
        _refuse_unused_data_dir(self.data, self.data_dir)

    def to_dict(self) -> dict:
        return asdict(self)


def _widths(name: str, value):
    """Layer widths from the command line ("400" or "512,256") as a tuple; anything else unchanged."""
    if not isinstance(value, str):
        return value
    try:
        return tuple(int(h) for h in value.split(",") if h.strip())
    except ValueError:
        raise ConfigError(f"{name} must be comma-separated integers like 400 or 512,256; got {value!r}",
                          setting=name) from None


def _stds(name: str, value) -> tuple[float, ...]:
    """The two standard deviations F0,F1 of ``anneal_std``, F0 >= F1 > 0: from "0.3,0.02", a TOML list or
    config.json's list; () (off) as it is."""
    expected = f"{name} must be two numbers F0,F1 with F0 >= F1 > 0, e.g. 0.3,0.02"
    given = value
    if isinstance(value, str):
        try:
            value = tuple(float(f) for f in value.split(",") if f.strip())
        except ValueError:
            raise ConfigError(f"{expected}; got {value!r}", setting=name) from None
    if isinstance(value, list):
        value = tuple(value)
    if value == ():
        return value
    if (not isinstance(value, tuple) or len(value) != 2
            or any(isinstance(f, bool) or not isinstance(f, (int, float)) or not math.isfinite(f) for f in value)
            or not value[0] >= value[1] > 0):
        got = ",".join(map(str, value)) if isinstance(given, (tuple, list)) else given
        raise ConfigError(f"{expected}; got {got!r}", setting=name)
    return tuple(float(f) for f in value)


def _refuse_unused_data_dir(data: str, data_dir: str | None) -> None:
    """data_dir is read only by the datasets stored in files (mnist, fashion-mnist, frey)."""
    from ..data.registry import uses_data_dir

    if data_dir is not None and not uses_data_dir(data):
        why = "is shipped inside scikit-learn" if data == "digits" else "is read from its path"
        raise ConfigError(f"data_dir={data_dir!r} would be ignored: {data} {why}", setting="data_dir")


def from_toml(path: str | Path, cls=TrainConfig, table: str = "train") -> dict:
    """Settings from a TOML file: top-level keys, or a [train] table, named as the flags.

    Read as run files are (``fileio.read_bytes``): a regular file of at most TOML_LIMIT bytes,
    so ``/dev/zero`` or a FIFO is an error, not a read without end.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: expected a TOML file, got a directory")
    try:
        data = tomllib.loads(read_bytes(path, TOML_LIMIT).decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnsafeFile as e:
        raise ConfigError(str(e)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({' '.join(str(e).split())})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read the config file ({e.strerror or e})") from None
    if set(data) == {table} and isinstance(data[table], dict):
        data = data[table]
    known = {f.name for f in fields(cls)}
    settings = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{path}: unknown setting {key!r}; expected some of {', '.join(sorted(known))}")
        settings[name] = tuple(value) if isinstance(value, list) else value
    return settings


def make_config(toml_path: str | Path | None = None, cls=TrainConfig, **overrides):
    """Defaults, then the TOML file, then ``overrides`` (flags given on the command line)."""
    settings = from_toml(toml_path, cls) if toml_path else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return cls(**settings)
    except TypeError as e:
        raise ConfigError(f"bad setting: {e}") from None
