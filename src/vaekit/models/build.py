"""Which model class a ``ModelConfig`` describes, and a freshly built, seeded model of it."""

from __future__ import annotations

import torch

from .config import ModelConfig
from .two_layer import TwoLayerVAE
from .vae import VAE


def model_class(config: ModelConfig) -> type[VAE]:
    """``TwoLayerVAE`` for two stochastic layers, else ``VAE`` (the AE, the VAE, the linear VAE)."""
    return TwoLayerVAE if config.stochastic_layers == 2 else VAE


def build_model(config: ModelConfig, seed: int = 0) -> VAE:
    """A freshly initialised model; the same seed gives the same weights on every machine."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return model_class(config)(config)
