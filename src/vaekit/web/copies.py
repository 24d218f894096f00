"""Is it a copy?  The nearest training image of an image, and how close real test images come to theirs.

    copies = CopyCheck(train, test, device="cpu")   # the search index builds in a thread of its own
    copies.neighbors(images)                         # (1, C, H, W) -> the nearest training image, its
                                                     # RMS pixel distance, and the test images' distances
    copies.close()                                   # stop building, if it still is

The explorer's copy check (``Explorer.neighbors``); the distances are RMS pixel distances with
pixels in [0, 1] (``eval.nearest``).  Safe to call from several threads at once.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from ..data.dataset import Dataset
from ..errors import VaekitError
from ..eval.nearest import NearestIndex, as_unit_float

REFERENCE_IMAGES = 500          # test images whose nearest-training distance makes the reference distribution
REFERENCE_CHUNK = 50            # of them searched at once while the index is built
HISTOGRAM_BINS = 30


class CopyCheck:
    """The training images' search index and the reference distances of REFERENCE_IMAGES test images."""

    def __init__(self, train: Dataset, test: Dataset, device: torch.device):
        self.train, self.test, self.device = train, test, device
        self._index: NearestIndex | None = None
        self._reference: torch.Tensor | None = None
        self._ready = threading.Event()
        self._closing = threading.Event()
        self._failed: Exception | None = None
        self._queue: list[dict] = []                  # neighbour queries waiting for a search (``_search``)
        self._queue_lock = threading.Lock()
        self._searcher = ThreadPoolExecutor(1, thread_name_prefix="vaekit-nearest-search")
        # The training set's search index and the reference distances take a few seconds on
        # MNIST: built in the background, so the server answers at once.  Not a daemon thread:
        # torch aborts the process ("terminate called without an active exception") if the
        # interpreter exits while one is still computing; ``close`` stops it instead.
        self._builder = threading.Thread(target=self._build_index, name="vaekit-nearest-index")
        self._builder.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop building the nearest-image index (if it still is) and wait for that thread to end.

        Without it the process could not exit before the index is whole (seconds on MNIST,
        more on a busy machine).  Requests for neighbours after this are refused.
        """
        self._closing.set()
        self._builder.join(timeout_s)
        self._searcher.shutdown(wait=False, cancel_futures=True)

    def _build_index(self) -> None:
        try:
            index = NearestIndex(self.train.images, device=self.device)
            g = torch.Generator().manual_seed(0)
            n = min(REFERENCE_IMAGES, len(self.test))
            chosen = torch.randperm(len(self.test), generator=g)[:n]
            reference = []
            for start in range(0, n, REFERENCE_CHUNK):   # in pieces, so that ``close`` stops it soon
                if self._closing.is_set():
                    raise VaekitError("the server is stopping")
                reference.append(index.search(self.test.images[chosen[start:start + REFERENCE_CHUNK]])[0].cpu())
            self._reference = torch.cat(reference)
            self._index = index
        except Exception as e:   # reported to the request that needs it
            self._failed = e
        finally:
            self._ready.set()

    def _search(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``NearestIndex.search`` of one image, made together with the searches other threads wait for.

        A search reads the whole index (MNIST: 157 MB) for little arithmetic, so one pass for
        every query waiting costs about what a pass for one does.  The passes are made by one
        thread of their own, each for all queries queued by then: one thread also means one
        malloc arena for their blocks of distances, whose sizes vary with the number of queries
        (spread over the request threads' arenas, each kept its freed blocks, and the server's
        memory grew under load: ``docs/performance.md``, "One thread for the neighbour searches").
        """
        item = {"query": as_unit_float(images.to(self.device))}
        with self._queue_lock:
            self._queue.append(item)
        self._searcher.submit(self._search_queued).result()   # ours, or an earlier pass, answered it
        if "failed" in item:
            raise item["failed"]
        return item["answer"]

    def _search_queued(self) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue, []
        if not batch:   # an earlier pass answered them all
            return
        try:
            distance, index = self._index.search(torch.cat([it["query"] for it in batch]))
        except Exception as e:   # each waiting request reports it
            for it in batch:
                it["failed"] = e
            return
        for row, it in enumerate(batch):
            it["answer"] = distance[row:row + 1], index[row:row + 1]

    def neighbors(self, images: torch.Tensor) -> dict:
        """The nearest training image of one image (1, C, H, W) uint8 or float in [0, 1], and where its
        distance falls among real test images' nearest-training distances (RMS pixel distance)."""
        self._ready.wait()
        if self._failed is not None:
            raise VaekitError(f"the nearest-image index could not be built: {self._failed}")
        distance, index = self._search(images)
        d, j = distance.item(), int(index.item())
        ref = self._reference.double()
        top = max(ref.max().item(), d) * 1.05 or 1.0
        counts = torch.histc(ref, bins=HISTOGRAM_BINS, min=0.0, max=top)
        labels = self.train.labels
        return {"distance": d, "index": j, "label": None if labels is None else int(labels[j]),
                "nearest": self.train.images[j:j + 1],
                "reference": {"n": len(ref), "edges": [round(top * i / HISTOGRAM_BINS, 6) for i in range(HISTOGRAM_BINS + 1)],
                              "counts": [int(c) for c in counts.tolist()], "median": ref.median().item(),
                              "fraction_closer": (ref <= d).double().mean().item()},
                "units": "RMS pixel distance (pixels in [0, 1])"}
