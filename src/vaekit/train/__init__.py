"""Training: the config, the loop, and whole runs with checkpoints."""

from .config import TrainConfig, from_toml, make_config
from .run import config_for_resume, fit

__all__ = ["TrainConfig", "config_for_resume", "fit", "from_toml", "make_config"]
