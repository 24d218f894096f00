"""Training settings: one frozen dataclass, filled from defaults, a TOML file and CLI flags.

Config flows one way: ``TrainConfig`` defaults -> ``--config FILE.toml`` -> flags -> saved
verbatim (resolved) in the run's ``config.json``.  Unknown keys and wrong types are errors.
"""

from __future__ import annotations

import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from ..errors import ConfigError
from ..models.config import ARCHS, LIKELIHOODS, MODEL_KINDS

OBJECTIVES = ("elbo", "iwae")
LR_SCHEDULES = ("constant", "cosine")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class TrainConfig:
    data: str = "digits"
    data_dir: str | None = None
    image_size: int | None = None
    model: str = "vae"
    arch: str = "mlp"
    hidden: tuple[int, ...] = (400,)
    latent: int = 20
    likelihood: str = "auto"          # bernoulli, gaussian, or auto: gaussian for frey, else bernoulli
    objective: str = "elbo"
    beta: float = 1.0
    k: int = 1                        # importance samples per example for --objective iwae
    warmup_epochs: int = 0            # KL weight rises linearly from 0 to β over this many epochs
    free_bits: float = 0.0            # nats per latent dimension charged at least (0: off)
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    lr_schedule: str = "constant"     # or cosine: lr·½(1 + cos(π·(epoch-1)/epochs)), per epoch
    seed: int = 0
    device: str = "auto"
    log_px_every: int = 5             # estimate val log p(x) every this many epochs (0: never)
    log_px_k: int = 100               # importance samples for that estimate

    def __post_init__(self):
        hidden = self.hidden
        if isinstance(hidden, int):
            hidden = (hidden,)
        elif isinstance(hidden, str):
            try:
                hidden = tuple(int(h) for h in hidden.split(",") if h.strip())
            except ValueError:
                raise ConfigError(f"--hidden must be comma-separated integers like 400 or 512,256; got {self.hidden!r}") from None
        object.__setattr__(self, "hidden", tuple(hidden))
        for name, choices in (("model", MODEL_KINDS), ("arch", ARCHS), ("objective", OBJECTIVES),
                              ("device", DEVICES), ("likelihood", ("auto", *LIKELIHOODS)),
                              ("lr_schedule", LR_SCHEDULES)):
            value = getattr(self, name)
            if value not in choices:
                raise ConfigError(f"--{_flag(name)} must be one of {', '.join(choices)}; got {value!r}")
        for name in ("latent", "epochs", "batch_size", "k", "log_px_k"):
            _positive_int(name, getattr(self, name))
        if not isinstance(self.data, str) or not self.data:
            raise ConfigError(f"--data must be a dataset name or a path; got {self.data!r}")
        if not self.hidden or any(not isinstance(h, int) or h < 1 for h in self.hidden):
            raise ConfigError(f"--hidden must be positive integers; got {self.hidden!r}")
        for name in ("warmup_epochs", "log_px_every"):
            _int_at_least(name, getattr(self, name), 0)
        if self.image_size is not None:
            _positive_int("image_size", self.image_size)
        for name in ("lr", "beta", "free_bits"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
                raise ConfigError(f"--{_flag(name)} must be a number; got {value!r}")
        if self.lr <= 0:
            raise ConfigError(f"--lr must be positive; got {self.lr}")
        if self.beta < 0 or self.free_bits < 0:
            raise ConfigError(f"--beta and --free-bits must be >= 0; got {self.beta} and {self.free_bits}")
        if self.objective == "iwae" and self.model != "vae":
            raise ConfigError("--objective iwae needs --model vae (a plain autoencoder has no q(z|x))")
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise ConfigError(f"--seed must be an integer; got {self.seed!r}")

    def resolved_likelihood(self) -> str:
        if self.likelihood != "auto":
            return self.likelihood
        return "gaussian" if self.data == "frey" else "bernoulli"

    def to_dict(self) -> dict:
        return asdict(self)


def _flag(name: str) -> str:
    return name.replace("_", "-")


def _positive_int(name: str, value) -> None:
    _int_at_least(name, value, 1)


def _int_at_least(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ConfigError(f"--{_flag(name)} must be {what}; got {value!r}")


def from_toml(path: str | Path) -> dict:
    """Read settings from a TOML file: top-level keys, or a [train] table, named as the flags."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: not valid TOML ({e})") from None
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    known = {f.name for f in fields(TrainConfig)}
    settings = {}
    for key, value in data.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ConfigError(f"{path}: unknown setting {key!r}; expected some of {', '.join(sorted(known))}")
        if name == "hidden" and isinstance(value, list):
            value = tuple(value)
        settings[name] = value
    return settings


def make_config(toml_path: str | Path | None = None, **overrides) -> TrainConfig:
    """Defaults, then the TOML file, then ``overrides`` (flags given on the command line)."""
    settings = from_toml(toml_path) if toml_path else {}
    settings.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return replace(TrainConfig(), **settings)
    except TypeError as e:
        raise ConfigError(f"bad setting: {e}") from None
