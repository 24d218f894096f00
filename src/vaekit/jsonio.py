"""JSON as vaekit writes it: strict (no NaN or Infinity, which are not JSON) and one line per record.

A non-finite number is written as ``null``, and the object that held it gets a
``"non_finite"`` field saying which key held what (``{"val_loss": "inf"}``), so a reader
in any language can parse the file and still learn why the value is missing.
"""

from __future__ import annotations

import json
import math


def _clean(obj, path: str, found: dict):
    if isinstance(obj, float) and not math.isfinite(obj):
        found[path] = "nan" if obj != obj else ("inf" if obj > 0 else "-inf")
        return None
    if isinstance(obj, dict):
        return {k: _clean(v, f"{path}.{k}" if path else str(k), found) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v, f"{path}[{i}]", found) for i, v in enumerate(obj)]
    return obj


def strict(obj):
    """``obj`` with every non-finite float replaced by None; a dict gains ``non_finite`` if any was."""
    found: dict[str, str] = {}
    out = _clean(obj, "", found)
    if found and isinstance(out, dict):
        out["non_finite"] = {**out.get("non_finite", {}), **found}
    return out


def dumps(obj, indent: int | None = None) -> str:
    """Strict JSON text of ``obj`` (see ``strict``); never emits NaN or Infinity."""
    return json.dumps(strict(obj), indent=indent, allow_nan=False)
