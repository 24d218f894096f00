"""The small frozen config every model is built from (and saved with)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import ConfigError

MODEL_KINDS = ("vae", "ae")
ARCHS = ("mlp", "conv")
LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class ModelConfig:
    """What a model is; nothing about how it is trained.

    image_shape: (C, H, W) of the data.  hidden: widths of the hidden layers
    (``mlp``: every hidden layer; ``conv``: the fully connected layer after the
    convolutions, first entry).  latent: size of the code z (the lecture's c).
    """

    kind: str = "vae"
    arch: str = "mlp"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    hidden: tuple[int, ...] = (400,)
    latent: int = 20
    likelihood: str = "bernoulli"
    conv_channels: tuple[int, int] = field(default=(32, 64))

    def __post_init__(self):
        # JSON round trips give lists; keep the dataclass hashable and comparable.
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        object.__setattr__(self, "hidden", tuple(int(v) for v in self.hidden))
        object.__setattr__(self, "conv_channels", tuple(int(v) for v in self.conv_channels))
        _choice("model kind", self.kind, MODEL_KINDS)
        _choice("architecture", self.arch, ARCHS)
        _choice("likelihood", self.likelihood, LIKELIHOODS)
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ConfigError(f"image_shape must be three positive sizes (C, H, W); got {self.image_shape}")
        if not self.hidden or min(self.hidden) < 1:
            raise ConfigError(f"--hidden must be positive integers; got {','.join(map(str, self.hidden)) or 'nothing'}")
        if self.latent < 1:
            raise ConfigError(f"--latent must be a positive integer; got {self.latent}")
        if self.arch == "conv":
            _, h, w = self.image_shape
            if h % 4 or w % 4:
                raise ConfigError(f"the conv architecture needs height and width divisible by 4; got {h}x{w} "
                                  "(use --arch mlp or --image-size)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return config_from_dict(cls, d, "model")


def config_from_dict(cls, d: dict, what: str):
    """Rebuild a frozen config dataclass from its saved dict; unknown keys are an error."""
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; expected some of {sorted(known)}")
    return cls(**d)


def _choice(what: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"unknown {what} {value!r}; expected one of {', '.join(choices)}")
