"""Everything distributed, in one place: joining torchrun's process group, who is rank 0, reductions.

vaekit runs on several processes (and machines) when ``torchrun`` launches it; there is no
flag.  torchrun sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT for each worker;
``session`` joins the process group (gloo on CPUs, NCCL on GPUs, where each worker takes the GPU
numbered by its LOCAL_RANK) and leaves it at the end.  The rest of vaekit calls only this
module: ``rank()``, ``world_size()``, ``is_main()``, the reductions (sums: gloo has no average)
and broadcasts from rank 0.  Outside torchrun every function is the one-process identity
(``world_size() == 1``, reductions return their input), so callers need no second code path.

Faults: every collective waits at most ``timeout_s()`` seconds (VAEKIT_DIST_TIMEOUT, default
600), so a rank that dies never leaves the others hanging; a failed collective becomes a
``DistributedFailure`` naming this rank.  torchrun itself stops the other workers when one
exits with an error and reports which rank failed.
"""

from __future__ import annotations

import os
import pickle
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch
import torch.distributed as dist

from .errors import DistributedFailure, VaekitError

TIMEOUT_ENV = "VAEKIT_DIST_TIMEOUT"
DEFAULT_TIMEOUT_S = 600


def launched() -> bool:
    """Whether torchrun (or a launcher setting its variables) started this process as one of several ranks."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ and "MASTER_ADDR" in os.environ


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    """Rank 0, the only process that writes files and prints results (True outside torchrun)."""
    return rank() == 0


def restart_count() -> int:
    """How many times torchrun restarted this job's workers (``--max-restarts``); 0 outside torchrun."""
    return int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") or 0)


def timeout_s() -> float:
    text = os.environ.get(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_S))
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise VaekitError(f"{TIMEOUT_ENV} must be a positive number of seconds; got {text!r}")
    return value


def where() -> str:
    """'rank 1 of 2' inside a process group, '' outside: for messages."""
    return f"rank {rank()} of {world_size()}" if active() else ""


@contextmanager
def session(device: torch.device) -> Iterator[torch.device]:
    """Join torchrun's process group for the block (nothing outside torchrun); yields this rank's device.

    ``device``: the resolved ``--device``.  On CUDA each worker takes GPU LOCAL_RANK (and makes
    it current, so tensors made on "cuda" land there) and the backend is NCCL; on the CPU, gloo.
    """
    if not launched():
        yield device
        return
    if device.type == "cuda":
        local = int(os.environ.get("LOCAL_RANK", "0"))
        if local >= torch.cuda.device_count():
            raise VaekitError(f"LOCAL_RANK {local} but PyTorch sees {torch.cuda.device_count()} GPU(s) on this "
                              "machine; start at most that many processes per node (--nproc-per-node)")
        torch.cuda.set_device(local)
        device, backend = torch.device("cuda", local), "nccl"
    else:
        backend = "gloo"
    try:
        dist.init_process_group(backend, store=_store(), rank=int(os.environ["RANK"]),
                                world_size=int(os.environ["WORLD_SIZE"]), timeout=timedelta(seconds=timeout_s()))
    except (RuntimeError, ValueError) as e:
        raise DistributedFailure(f"rank {os.environ.get('RANK')}: could not join the process group at "
                                 f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')} within "
                                 f"{timeout_s():g} s ({_first_line(e)})") from None
    try:
        yield device
    except (RuntimeError, dist.DistBackendError) as e:
        if isinstance(e, DistributedFailure) or not _is_comm_error(e):
            raise
        raise DistributedFailure(f"lost contact with the other processes ({_first_line(e)}); another rank "
                                 "probably died: torchrun's report on its machine says which") from None
    else:
        dist.barrier()   # leave together: a rank tearing down gloo while another still talks aborts
    finally:
        dist.destroy_process_group()


def _store() -> dist.Store:
    """The rendezvous store of this attempt: torchrun's (or rank 0's) TCPStore, under a prefix per restart.

    A workaround for PyTorch (seen with 2.13, gloo, ``torchrun --standalone --max-restarts``):
    torchrun can hand the restarted workers the store of the failed attempt, whose keys still
    hold the dead workers' addresses, and gloo's connectFullMesh then fails ("Connection refused")
    instead of connecting the new ones.  A prefix per attempt (TORCHELASTIC_RESTART_COUNT)
    makes every attempt start from empty keys.
    """
    agent = os.environ.get("TORCHELASTIC_USE_AGENT_STORE") == "True"   # torchrun's agent hosts the store
    rank_ = int(os.environ["RANK"])
    store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), int(os.environ["WORLD_SIZE"]),
                          is_master=not agent and rank_ == 0, timeout=timedelta(seconds=timeout_s()),
                          wait_for_workers=False)
    return dist.PrefixStore(f"vaekit/attempt_{restart_count()}", store)


def _first_line(e: BaseException) -> str:
    """The gist of a torch/gloo error: its first line, without a source location or gloo's advice."""
    lines = str(e).strip().splitlines()
    text = re.sub(r"^\[[^\]]*\]\s*", "", lines[0]) if lines else type(e).__name__
    return text.split(". This is typically")[0][:300]


def _is_comm_error(e: BaseException) -> bool:
    text = str(e).lower()
    return isinstance(e, dist.DistBackendError) or any(
        word in text for word in ("gloo", "nccl", "connection", "timed out", "timeout", "peer", "socket"))


# ---- collectives: identities outside a process group ------------------------------------------


def _comm_device(t: torch.Tensor) -> torch.device:
    """NCCL reduces CUDA tensors, gloo CPU ones."""
    return torch.device("cuda", torch.cuda.current_device()) if dist.get_backend() == "nccl" else torch.device("cpu")


def all_sum(t: torch.Tensor) -> torch.Tensor:
    """The elementwise sum of ``t`` over all ranks, on t's device (t itself outside a process group)."""
    if not active() or world_size() == 1:
        return t
    comm = t.to(_comm_device(t))
    dist.all_reduce(comm, op=dist.ReduceOp.SUM)
    return comm.to(t.device)


def sum_floats(*values: float) -> list[float]:
    """Python floats summed over ranks, in float64 (means: sum the numerators and the counts, then divide)."""
    if not active() or world_size() == 1:
        return [float(v) for v in values]
    return all_sum(torch.tensor(values, dtype=torch.float64)).tolist()


def sum_gradients(params: list[torch.Tensor], scale: float) -> None:
    """Every parameter's .grad becomes Σ over ranks of scale·.grad, through one flat buffer (one all-reduce).

    With each rank's .grad = ∂(its loss sum / its examples) and scale = its examples / the global
    batch, the result on every rank is ∂(global loss sum / global batch): the one-process gradient.
    """
    if not active() or world_size() == 1:
        return
    grads = [p.grad for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads]).mul_(scale)
    flat = all_sum(flat)
    offset = 0
    for g in grads:
        g.copy_(flat[offset:offset + g.numel()].view_as(g))
        offset += g.numel()


def broadcast_object(obj=None):
    """rank 0's ``obj`` on every rank (pickled; tensors should be on the CPU); ``obj`` itself outside."""
    if not active() or world_size() == 1:
        return obj
    box = [obj if is_main() else None]
    dist.broadcast_object_list(box, src=0, device=_comm_device(torch.empty(0)))
    return box[0]


def broadcast_parameters(module: torch.nn.Module) -> None:
    """Copy rank 0's parameters and buffers into every rank's ``module``, in place."""
    if not active() or world_size() == 1:
        return
    for t in [*module.parameters(), *module.buffers()]:
        comm = t.detach().to(_comm_device(t))
        dist.broadcast(comm, src=0)
        with torch.no_grad():
            t.copy_(comm.to(t.device))


def on_main(fn: Callable[[], object]):
    """Run ``fn`` on rank 0 only and give its result to every rank; if it raised, every rank raises.

    For what only rank 0 may do (create or lock the run directory, read a checkpoint): without
    this, the other ranks would wait in their next collective until the timeout.
    """
    if not active() or world_size() == 1:
        return fn()
    outcome, failure = None, None
    if is_main():
        try:
            outcome = ("ok", fn())
        except Exception as e:   # sent as its message: the others raise the same kind of error
            failure = e
            outcome = ("error", isinstance(e, VaekitError), str(e))
    try:
        outcome = broadcast_object(outcome)
    except pickle.PicklingError as e:   # a result that cannot travel: a bug, said plainly
        raise DistributedFailure(f"{where()}: rank 0's result could not be sent ({e})") from None
    if outcome[0] == "error":
        if failure is not None:
            raise failure
        raise (VaekitError if outcome[1] else RuntimeError)(f"on rank 0: {outcome[2]}")
    return outcome[1]


def agree_checksum(module: torch.nn.Module) -> int:
    """Check that every rank holds the same weights: DistributedFailure if not; returns the world size.

    Sums each rank's parameters' float64 checksum and its square over ranks: equal checksums
    c_r give Σc² = (Σc)²/W exactly up to rounding, unequal ones do not.
    """
    if not active() or world_size() == 1:
        return 1
    c = sum(p.detach().double().sum().item() * (i + 1) for i, p in enumerate(module.parameters()))
    total, squares, n = sum_floats(c, c * c, 1.0)
    spread = squares / n - (total / n) ** 2
    if spread > 1e-12 * max(1.0, (total / n) ** 2):
        raise DistributedFailure(f"{where()}: the ranks' weights differ after training (checksum spread {spread:.3g})")
    return int(n)


def split(n: int) -> slice:
    """This rank's contiguous share of n rows (a global batch, a split to evaluate): sizes n//W, the first
    n % W ranks one more (a share can be empty)."""
    r, w = rank(), world_size()
    base, extra = divmod(n, w)
    start = r * base + min(r, extra)
    return slice(start, start + base + (r < extra))


def exit_now(code: int) -> None:
    """End a process that was one of torchrun's ranks: flush output, then ``os._exit(code)``.

    A workaround for PyTorch (seen with 2.13, gloo; pytorch/pytorch#167288, #179291): a gloo
    worker thread still alive while the interpreter finalises aborts the process ("terminate
    called without an active exception", SIGABRT) after its work is done and written, in about
    one run in six here, and torchrun then reports the job failed.  Skipping finalisation, once
    the process group is destroyed and every file is closed, avoids it.
    """
    import logging
    import sys

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    logging.shutdown()
    os._exit(code)
