"""A run cache of freshly built (untrained) models, for section tests that check shapes and wiring, not numbers."""

from pathlib import Path

from vaekit.lecture.cache import Trained
from vaekit.models import ModelConfig, build_model


class UntrainedCache:
    """``get`` builds the model ``model_config(cfg)`` describes (seeded, in eval mode) instead of training it."""

    def __init__(self, root: Path, model_config, seed: int = 1):
        self.root, self.model_config, self.seed = root, model_config, seed

    def path(self, name, cfg):
        return self.root / name

    def get(self, name, cfg):
        model = build_model(self.model_config(cfg), seed=self.seed).eval()
        return Trained(name, self.root / name, cfg, model, [], cached=True)
