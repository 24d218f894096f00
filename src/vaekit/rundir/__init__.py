"""The run directory: the only code that knows its layout (see ``layout``).

    run = RunDir.create(out)             # locked for writing; refuses a run or a foreign folder
    run.write_config(run_config(...)); run.write_metrics(records); run.save_checkpoint(model, state, epoch)
    run.close()
    read_config(path), read_metrics(path), load_model(path, device)   # readers: no lock needed

Names are imported on first use (PEP 562), so the settings of ``vaekit sample``
(``rundir.sample.SampleConfig``) can be read to build the CLI's flags without importing torch.
"""

from importlib import import_module

_WHERE = {"MAX_PARAMETERS": "checkpoint", "current": "checkpoint", "damaged_state": "checkpoint",
          "saved_model_config": "checkpoint", "FIGURES": "layout", "KINDS": "layout", "RunDir": "run",
          "check_path": "run", "command_line": "run", "load_model": "run", "read_config": "run",
          "read_metrics": "run", "resumable": "run", "run_config": "run", "status": "run"}


def __getattr__(name: str):
    if name == "load_checkpoint":
        return import_module(f"{__name__}.checkpoint").load
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted([*_WHERE, "load_checkpoint"])
