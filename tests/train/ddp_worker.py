"""Run by torchrun in tests/train/test_distributed.py: train through the library on each rank, then save
what that rank holds, so the test can compare ranks.

    torchrun --standalone --nproc-per-node 2 tests/train/ddp_worker.py OUT_DIR [--objective elbo|iwae]

Rank 0 writes the run OUT_DIR/run; each rank writes OUT_DIR/rank<r>.pt (its trained weights and history).  Then rank 1 perturbs one
weight and every rank calls ``distributed.agree_checksum``: rank 0 writes OUT_DIR/checksum.txt
with the error it raised (it must raise).
"""

import sys
from pathlib import Path

import torch

from vaekit import distributed
from vaekit.errors import DistributedFailure
from vaekit.train import TrainConfig, fit


def main() -> None:
    out = Path(sys.argv[1])
    objective = sys.argv[3] if len(sys.argv) > 3 and sys.argv[2] == "--objective" else "elbo"
    cfg = TrainConfig(data="digits", epochs=2, latent=4, hidden=(32,), batch_size=100, log_px_every=1,
                      log_px_k=20, objective=objective, k=3 if objective == "iwae" else 1, device="cpu")
    with distributed.session(torch.device("cpu")):
        model, history = fit(cfg, out / "run")   # the same call on every rank: rank 0 alone writes the run
        rank = distributed.rank()
        torch.save({"state": model.state_dict(), "history": history, "world": distributed.world_size()},
                   out / f"rank{rank}.pt")
        if rank == 1:
            with torch.no_grad():
                next(model.parameters()).view(-1)[0] += 1e-3
        try:
            distributed.agree_checksum(model)
            said = "no error"
        except DistributedFailure as e:
            said = str(e)
        if distributed.is_main():
            (out / "checksum.txt").write_text(said)


if __name__ == "__main__":
    main()
    distributed.exit_now(0)   # as the vaekit command does under torchrun: gloo can abort at finalisation
