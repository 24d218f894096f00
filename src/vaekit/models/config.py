"""The small frozen config every model is built from (and saved with), and its checks.

Every check raises ``ConfigError`` through ``vaekit.validate``: the message starts with the
parameter's name ("latent must be a positive integer; got 0") and the error carries it as
``setting``, so the CLI can show the flag instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ..errors import ConfigError
from ..likelihoods import LIKELIHOODS
from ..validate import choice, integer, note, size, sizes

MODEL_KINDS = ("vae", "ae")
ARCHS = ("mlp", "conv", "linear")
PRIORS = ("standard", "vamp", "mog")
POSTERIORS = ("diag", "iaf")
MAX_FLOW_STEPS = 64
CONDITIONS = ("none", "label")
MAX_CLASSES = 10_000
MAX_STOCHASTIC_LAYERS = 2
COVARIANCES = ("diag", "full")   # of a Gaussian mixture's components (gmm.GMMConfig)
DEFAULT_HIDDEN = (400,)


@dataclass(frozen=True)
class ModelConfig:
    """What a model is; nothing about how it is trained.

    kind: ``vae`` or ``ae`` (the plain autoencoder).  arch: ``mlp``, ``conv`` or ``linear``
    (one linear map each way, the model whose optimum is probabilistic PCA: ``VAE`` has its
    exact log p(x); it needs likelihood ``gaussian`` and has no hidden layers).
    image_shape: (C, H, W) of the data.  hidden: widths of the hidden layers (an int for one)
    (``mlp``: every hidden layer; ``conv``: the fully connected layer after the
    convolutions, first entry; ``linear``: none, so it must stay at its default).
    latent: size of the code z (the lecture's c).
    likelihood: ``bernoulli`` or ``gaussian`` p(x|z).  conv_channels: the two convolutions' widths.
    prior: ``standard`` (p(z) = N(0, I)) or ``vamp``, the VampPrior p(z) = (1/K) Σ_k q(z|u_k)
    (Tomczak & Welling 2018) over ``pseudo_inputs`` = K learned pseudo-inputs u_k (0 for the
    standard prior).
    stochastic_layers: 1, or 2 for the IWAE paper's hierarchy (Burda et al. 2016,
    ``models.posteriors.TwoLayerGaussian``, ``models.priors.HierarchicalPrior``): q(z1|x) q(z2|z1),
    p(z2) p(z1|z2) p(x|z1), where ``latent`` is the size of z1, ``latent2`` that of z2 and
    ``hidden2`` the widths between them (the paper's 784-200-200-100 / 100-100-50 is hidden
    (200, 200), latent 100, hidden2 (100, 100), latent2 50).  One layer has latent2 0 and hidden2 ().
    prior ``mog``: a learned mixture of ``prior_components`` = K diagonal Gaussians (0 for the
    other priors).
    posterior: ``diag``, q(z|x) = N(m, diag exp(σ)), or ``iaf``, that Gaussian followed by
    ``flow_steps`` inverse autoregressive flow steps (Kingma et al. 2016; 0 for ``diag``).
    condition: ``none``, or ``label`` for a conditional model, q(z|x, y) and p(x|z, y) with y the
    image's class among ``classes`` (0 without a condition): the one-hot y joins the encoder's
    and the decoder's inputs.
    """

    kind: str = "vae"
    arch: str = "mlp"
    image_shape: tuple[int, int, int] = (1, 28, 28)
    hidden: tuple[int, ...] = DEFAULT_HIDDEN
    latent: int = 20
    likelihood: str = "bernoulli"
    conv_channels: tuple[int, int] = field(default=(32, 64))
    prior: str = "standard"
    pseudo_inputs: int = 0
    stochastic_layers: int = 1
    latent2: int = 0
    hidden2: tuple[int, ...] = ()
    posterior: str = "diag"
    flow_steps: int = 0
    prior_components: int = 0
    condition: str = "none"
    classes: int = 0

    def __post_init__(self):
        choice("kind", self.kind, MODEL_KINDS)
        choice("arch", self.arch, ARCHS)
        choice("likelihood", self.likelihood, LIKELIHOODS)
        # JSON round trips give lists; keep the dataclass hashable and comparable.
        hidden = (self.hidden,) if isinstance(self.hidden, int) and not isinstance(self.hidden, bool) else self.hidden
        object.__setattr__(self, "image_shape", sizes("image_shape", self.image_shape, 3))
        object.__setattr__(self, "hidden", sizes("hidden", hidden))
        object.__setattr__(self, "conv_channels", sizes("conv_channels", self.conv_channels, 2))
        size("latent", self.latent)
        check_prior(self.kind, self.arch, self.prior)
        if self.prior == "vamp":
            size("pseudo_inputs", self.pseudo_inputs)
        elif self.pseudo_inputs != 0:
            raise ConfigError(f"pseudo_inputs={self.pseudo_inputs} would be ignored: only prior 'vamp' has "
                              "pseudo-inputs", setting="pseudo_inputs")
        if self.prior == "mog":
            size("prior_components", self.prior_components)
        elif self.prior_components != 0:
            raise ConfigError(f"prior_components={self.prior_components} would be ignored: only prior 'mog' has "
                              "components", setting="prior_components")
        check_posterior(self.kind, self.prior, self.stochastic_layers, self.posterior)
        if self.posterior == "iaf":
            integer("flow_steps", self.flow_steps, 1, MAX_FLOW_STEPS)
        elif self.flow_steps != 0:
            raise ConfigError(f"flow_steps={self.flow_steps} would be ignored: only posterior 'iaf' has flow steps",
                              setting="flow_steps")
        check_condition(self.arch, self.prior, self.condition)
        if self.condition == "label":
            integer("classes", self.classes, 2, MAX_CLASSES)
        elif self.classes != 0:
            raise ConfigError(f"classes={self.classes} would be ignored: only condition 'label' has classes",
                              setting="classes")
        object.__setattr__(self, "hidden2", check_layers(self.kind, self.arch, self.prior, self.stochastic_layers,
                                                         self.latent2, self.hidden2))
        if self.arch == "conv":
            _, h, w = self.image_shape
            if h % 4 or w % 4:
                raise ConfigError(f"arch 'conv' needs image height and width divisible by 4; got {h}x{w} "
                                  "(use arch 'mlp', or resize the images)", setting="arch")
        if self.arch == "linear":
            if self.likelihood != "gaussian":
                raise ConfigError(f"likelihood must be gaussian for arch 'linear' (a linear decoder's mean is "
                                  f"unbounded, not a probability); got {self.likelihood!r}", setting="likelihood")
            if self.hidden != DEFAULT_HIDDEN:
                raise ConfigError(f"hidden={','.join(map(str, self.hidden))} would be ignored: arch 'linear' has "
                                  "no hidden layers (one linear map each way); drop it or use arch 'mlp'",
                                  setting="hidden")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ModelConfig":
        return config_from_dict(cls, d, "model")


def check_prior(kind: str, arch: str, prior: str) -> None:
    """A learned prior (the VampPrior, the mixture) needs a VAE, and would cost the linear model its
    exact log p(x).

    Shared by ``ModelConfig`` and ``train.TrainConfig`` (the same names, the same errors).
    """
    choice("prior", prior, PRIORS)
    if prior == "standard":
        return
    if kind != "vae":
        why = "no q(z|x) to build the prior from, and no prior" if prior == "vamp" else "no prior to learn"
        raise ConfigError(f"prior {prior!r} needs a VAE: a plain autoencoder (kind or model 'ae') has {why}",
                          setting="prior")
    if arch == "linear":
        raise ConfigError(f"prior {prior!r} with arch 'linear' would lose the exact log p(x), which needs "
                          "p(z) = N(0, I); use prior 'standard' or arch 'mlp'", setting="prior")


def check_posterior(kind: str, prior: str, stochastic_layers, posterior: str) -> None:
    """The IAF posterior refines a VAE's one diagonal-Gaussian layer.

    Shared by ``ModelConfig`` and ``train.TrainConfig`` (the same names, the same errors).
    """
    choice("posterior", posterior, POSTERIORS)
    if posterior == "diag":
        return
    if kind != "vae":
        raise ConfigError(f"posterior {posterior!r} needs a VAE: a plain autoencoder (kind or model 'ae') has a "
                          "deterministic code, no q(z|x)", setting="posterior")
    if prior == "vamp":
        raise ConfigError(f"posterior {posterior!r} with prior 'vamp': the VampPrior is made of the encoder's "
                          "diagonal-Gaussian posteriors; use posterior 'diag' or another prior", setting="posterior")
    if stochastic_layers != 1:
        raise ConfigError(f"posterior {posterior!r} has one stochastic layer; got stochastic_layers "
                          f"{stochastic_layers} (its q(z1|x) q(z2|z1) is built in)", setting="posterior")


def check_condition(arch: str, prior: str, condition: str) -> None:
    """A conditional model joins y to its networks' inputs; the linear model's exact p(x) and the
    VampPrior (the encoder's posteriors at pseudo-inputs, which have no class) are left out.

    Shared by ``ModelConfig`` and ``train.TrainConfig`` (the same names, the same errors).
    """
    choice("condition", condition, CONDITIONS)
    if condition == "none":
        return
    if arch == "linear":
        raise ConfigError(f"condition {condition!r} with arch 'linear': the linear model's exact log p(x) "
                          "is written for p(x) alone; use arch 'mlp' or 'conv'", setting="condition")
    if prior == "vamp":
        raise ConfigError(f"condition {condition!r} with prior 'vamp': the VampPrior's pseudo-inputs have no "
                          "class to encode them with; use prior 'standard' or 'mog'", setting="condition")


def check_layers(kind: str, arch: str, prior: str, stochastic_layers, latent2, hidden2) -> tuple[int, ...]:
    """The second stochastic layer's sizes: given exactly when there are two layers, and fitting.

    Shared by ``ModelConfig`` and ``train.TrainConfig`` (the same names, the same errors).
    Returns hidden2 as a tuple (an int is one width).
    """
    integer("stochastic_layers", stochastic_layers, 1, MAX_STOCHASTIC_LAYERS)
    hidden2 = (hidden2,) if isinstance(hidden2, int) and not isinstance(hidden2, bool) else hidden2
    hidden2 = sizes("hidden2", hidden2, allow_empty=True)
    if stochastic_layers == 1:
        if latent2 != 0 or hidden2:
            given = "latent2" if latent2 != 0 else "hidden2"
            raise ConfigError(f"{given} would be ignored: it sizes the second stochastic layer, and there is "
                              "one (stochastic_layers 1)", setting=given)
        return hidden2
    if kind != "vae":
        raise ConfigError("stochastic_layers 2 needs a VAE: a plain autoencoder has no stochastic layer",
                          setting="stochastic_layers")
    if prior != "standard":
        raise ConfigError(f"prior must be 'standard' with two stochastic layers (p(z2) = N(0, I)); got {prior!r}",
                          setting="prior")
    with note("with two stochastic layers, the size of z2; the IWAE paper's model: hidden 200,200, latent 100, "
              "hidden2 100,100, latent2 50"):
        size("latent2", latent2)
    if arch == "linear" and hidden2:
        raise ConfigError(f"hidden2={','.join(map(str, hidden2))} would be ignored: arch 'linear' has no "
                          "hidden layers (one linear map between z1 and z2 each way)", setting="hidden2")
    if arch != "linear" and not hidden2:
        raise ConfigError(f"hidden2 must give the widths of the layers between z1 and z2 with two stochastic "
                          f"layers and arch {arch!r} (the IWAE paper's: 100,100); got none", setting="hidden2")
    return hidden2


def config_from_dict(cls, d: dict, what: str):
    """Rebuild a frozen config dataclass from its saved dict; unknown keys are an error."""
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {what} setting(s) {unknown}; expected some of {sorted(known)}")
    return cls(**d)
