"""Training on two machines, simulated on this one: two network namespaces joined by a veth pair.

Each namespace is a node with its own network stack: loopback and one end of a veth pair
(node 0 10.231.0.1/24, node 1 10.231.0.2/24).  The addresses exist only inside these two
namespaces, which nothing routes to, so every packet stays on this machine; each run of the
tests makes its own pair (named by pid) and deletes it afterwards.  Each node runs the README's
two-machine command, a torchrun of one process whose rendezvous is at node 0's address:

    GLOO_SOCKET_IFNAME=<its veth> torchrun --nnodes 2 --nproc-per-node 1 --rdzv-backend c10d \
        --rdzv-endpoint 10.231.0.1:29500 --rdzv-id vaekit-test --local-addr <its address> \
        [--rdzv-conf is_host=1, node 0 only] -m vaekit train ...

so the ranks talk over a real network interface, the only link between the namespaces; the
first test checks that the gradients crossed it (its byte counters).

Needs root (to make namespaces) and the ``ip`` command (Debian's iproute2, which ``scripts/setup.sh
--test`` installs): without them the tests skip, except on CI (CI=true), where they fail.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from torchrun_jobs import ENV, JOB_TIMEOUT_S, TORCHRUN, metrics, ok, timeless, vaekit_cli, wait_for_epochs, worker_pids

import vaekit

IP = shutil.which("ip") or shutil.which("ip", path="/usr/sbin:/sbin")
ADDRESSES = ("10.231.0.1", "10.231.0.2")    # node 0's, node 1's; private, on the veth ends only
PORT = 29500                                # node 0's rendezvous port, in node 0's own namespace
RDZV_ID = "vaekit-test"                     # every job's, a resume's too (each starts a fresh rendezvous)
DEAD_PEER_S = 60                            # how long node 0 may take to end once node 1 dies
# 1,259 digits in global batches of 629: 629, 629 and 1 rows, shared 315/314, 315/314 and 1/0
SETTINGS = ["--data", "digits", "--latent", "4", "--hidden", "32", "--seed", "3", "--batch-size", "629",
            "--log-px-every", "0"]
STEPS_PER_EPOCH = 3


@dataclass(frozen=True)
class Node:
    netns: str     # the network namespace standing for this machine
    veth: str      # its end of the veth pair
    address: str   # on that end

    def bytes_moved(self) -> tuple[int, int]:
        """(received, sent) bytes through this node's veth end so far."""
        stats = f"/sys/class/net/{self.veth}/statistics"
        r = subprocess.run([IP, "netns", "exec", self.netns, "cat", f"{stats}/rx_bytes", f"{stats}/tx_bytes"],
                           capture_output=True, text=True, check=True, timeout=30)
        received, sent = map(int, r.stdout.split())
        return received, sent


def _cannot(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"the two-machine tests cannot run on CI: {why}")
    pytest.skip(why)


def _ip(*args: str) -> None:
    r = subprocess.run([IP, *args], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {r.stderr.strip()}")


_pairs = itertools.count()


@pytest.fixture
def nodes() -> Iterator[tuple[Node, Node]]:
    """Two fresh namespaces, their loopback up, joined by a veth pair; deleted afterwards (the veth with them)."""
    if os.geteuid() != 0:
        _cannot("network namespaces need root (ip netns add); run the tests as root")
    if IP is None:
        _cannot("the ip command is missing (apt-get install iproute2, or bash scripts/setup.sh --test)")
    tag = f"vaekit-{os.getpid()}-{next(_pairs)}"
    pair = tuple(Node(f"{tag}-node{i}", f"vk-node{i}", address) for i, address in enumerate(ADDRESSES))
    made = []
    try:
        for node in pair:
            r = subprocess.run([IP, "netns", "add", node.netns], capture_output=True, text=True, timeout=30)
            if r.returncode != 0:
                _cannot(f"cannot make a network namespace (ip netns add: {r.stderr.strip()})")
            made.append(node.netns)
        a, b = pair
        _ip("link", "add", a.veth, "netns", a.netns, "type", "veth", "peer", "name", b.veth, "netns", b.netns)
        for node in pair:
            _ip("-n", node.netns, "address", "add", f"{node.address}/24", "dev", node.veth)
            _ip("-n", node.netns, "link", "set", "lo", "up")
            _ip("-n", node.netns, "link", "set", node.veth, "up")
        yield pair
    finally:
        for netns in made:
            subprocess.run([IP, "netns", "delete", netns], capture_output=True, timeout=30)


def launch(pair: tuple[Node, Node], logs: Path, *args) -> list[subprocess.Popen]:
    """``vaekit ARGS`` under torchrun on both nodes (one process each); output in logs/node<i>.{out,err}."""
    logs.mkdir()
    host = pair[0]
    jobs = []
    for i, node in enumerate(pair):
        # --local-addr: the address the other node reaches this one at (torchrun's default, the
        # machine's FQDN, is the host's, unreachable from a namespace); rank 0's becomes MASTER_ADDR.
        # is_host: torchrun guesses whether it hosts the rendezvous from the machine's hostname, which
        # the namespaces share with the host: node 0 is told.  The nodes' ranks follow their
        # addresses' order (torchrun sorts them), so node i holds rank i.
        command = [IP, "netns", "exec", node.netns, *TORCHRUN, "--nnodes", "2", "--nproc-per-node", "1",
                   "--rdzv-backend", "c10d", "--rdzv-endpoint", f"{host.address}:{PORT}", "--rdzv-id", RDZV_ID,
                   "--rdzv-conf", f"is_host={int(node == host)}", "--local-addr", node.address,
                   "-m", "vaekit", *map(str, args)]
        with open(logs / f"node{i}.out", "w") as out, open(logs / f"node{i}.err", "w") as err:
            jobs.append(subprocess.Popen(command, stdout=out, stderr=err, text=True,
                                         env={**ENV, "GLOO_SOCKET_IFNAME": node.veth}))
    return jobs


def finish(jobs: list[subprocess.Popen], logs: Path,
           timeout: float = JOB_TIMEOUT_S) -> list[subprocess.CompletedProcess]:
    """Wait for both nodes (at most ``timeout`` seconds in all; then kill what is left)."""
    deadline = time.monotonic() + timeout
    try:
        for job in jobs:
            job.wait(timeout=max(0.0, deadline - time.monotonic()))
    finally:
        stop(jobs)
    return [subprocess.CompletedProcess(job.args, job.returncode, (logs / f"node{i}.out").read_text(),
                                        (logs / f"node{i}.err").read_text()) for i, job in enumerate(jobs)]


def stop(jobs: list[subprocess.Popen]) -> None:
    """SIGKILL what still runs: the workers first (torchrun killed outright leaves them behind), then torchrun."""
    for job in jobs:
        if job.poll() is None:
            for pid in worker_pids(job.pid).values():
                os.kill(pid, signal.SIGKILL)
            job.kill()
            job.wait()


def test_two_nodes_train_the_loopback_run(nodes, tmp_path):
    """Over the veth, the 2-process run on loopback, bit for bit: the same ranks take the same rows
    and draw the same noise, and gloo sums two ranks' gradients as a + b on both, whichever link
    carries them (two addends have one order)."""
    received, sent = nodes[0].bytes_moved()
    r = finish(launch(nodes, tmp_path / "logs", "train", *SETTINGS, "--epochs", 3, "--out", tmp_path / "net"),
               tmp_path / "logs")
    for node in r:
        ok(node)
    assert "(2 processes)" in r[0].stdout and not r[1].stdout.strip()     # rank 0 is node 0's, and alone prints
    received, sent = (now - before for now, before in zip(nodes[0].bytes_moved(), (received, sent)))
    ok(vaekit_cli("train", *SETTINGS, "--epochs", 3, "--out", tmp_path / "loopback", procs=2))

    assert [m["epoch"] for m in metrics(tmp_path / "net")] == [1, 2, 3]
    assert timeless(metrics(tmp_path / "net")) == timeless(metrics(tmp_path / "loopback"))
    net, loopback = vaekit.load(tmp_path / "net"), vaekit.load(tmp_path / "loopback")
    for (name, p), q in zip(net.named_parameters(), loopback.parameters()):
        assert torch.equal(p, q), name
    # every step each rank must receive the other's whole gradient (the model's size) to sum it
    gradient_bytes = sum(p.numel() * p.element_size() for p in net.parameters())
    assert min(received, sent) > 3 * STEPS_PER_EPOCH * gradient_bytes, (received, sent, gradient_bytes)


def test_a_killed_node_ends_the_other_and_a_resume_continues(nodes, tmp_path):
    """SIGKILL node 1's worker after epoch 2: node 0 ends at once, non-zero, with one line saying it
    lost contact; the same commands with --resume (on a disk both nodes share) finish the run."""
    run = tmp_path / "run"
    jobs = launch(nodes, tmp_path / "killed", "train", *SETTINGS, "--epochs", 400, "--out", run)
    try:
        wait_for_epochs(jobs, run, 2)   # a checkpoint to resume from
        pids = worker_pids(jobs[1].pid)
        assert list(pids) == [1]        # node 1 holds rank 1
        environ = Path(f"/proc/{pids[1]}/environ").read_bytes().split(b"\0")
        assert f"MASTER_ADDR={nodes[0].address}".encode() in environ   # torchrun's, from node 0's --local-addr
        os.kill(pids[1], signal.SIGKILL)
        try:
            jobs[0].wait(timeout=DEAD_PEER_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"node 0 still ran {DEAD_PEER_S} s after node 1's worker was killed")
        node0, node1 = finish(jobs, tmp_path / "killed", timeout=DEAD_PEER_S)
    finally:
        stop(jobs)
    assert node0.returncode != 0
    said = [line for line in node0.stderr.splitlines() if line.startswith("vaekit (rank")]   # vaekit's, not torchrun's
    assert len(said) == 1 and said[0].startswith(
        "vaekit (rank 0 of 2): error: lost contact with the other processes (") and said[0].endswith(
        "another rank probably died: torchrun's report on its machine says which"), node0.stderr[-3000:]
    assert f"[{nodes[1].address}]" in said[0]                              # gloo names the peer it lost
    assert "rank      : 1" in node1.stderr and "SIGKILL" in node1.stderr     # node 1's torchrun names the dead rank
    done = len(metrics(run))
    assert 2 <= done < 400

    for node in finish(launch(nodes, tmp_path / "resumed", "train", "--out", run, "--resume", "--epochs", done + 2),
                       tmp_path / "resumed"):
        ok(node)
    assert [m["epoch"] for m in metrics(run)] == list(range(1, done + 3))
    assert json.loads((run / "config.json").read_text())["resumed_world_sizes"] == [2]
