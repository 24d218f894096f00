"""The run directory: the only code that knows its layout (see ``layout``).

    run = RunDir.create(out)             # locked for writing; refuses a run or a foreign folder
    run.write_config(run_config(...)); run.write_metrics(records); run.save_checkpoint(model, state, epoch)
    run.close()
    read_config(path), read_metrics(path), load_model(path, device)   # readers: no lock needed
"""

from .checkpoint import MAX_PARAMETERS, current, damaged_state, saved_model_config
from .checkpoint import load as load_checkpoint
from .layout import FIGURES, KINDS
from .run import (RunDir, check_path, command_line, load_model, read_config, read_metrics, resumable, run_config,
                  status)

__all__ = ["FIGURES", "KINDS", "MAX_PARAMETERS", "RunDir", "check_path", "command_line", "current", "damaged_state",
           "load_checkpoint", "load_model", "read_config", "read_metrics", "resumable", "run_config",
           "saved_model_config", "status"]
