"""Models: plain ``nn.Module``s built from a frozen ``ModelConfig``."""

from .config import ARCHS, LIKELIHOODS, MODEL_KINDS, ModelConfig
from .vae import AutoEncoder, build_model

__all__ = ["ARCHS", "LIKELIHOODS", "MODEL_KINDS", "AutoEncoder", "ModelConfig", "build_model"]
