"""The layers import downward only: data -> models -> objectives -> eval -> rundir -> train -> viz -> lecture / web -> cli.

Every ``import`` in the package is read from its source (module level and inside functions alike)
and each package's layer compared with the layer of what it imports.
"""

import ast
from pathlib import Path

import vaekit

SOURCE = Path(vaekit.__file__).parent

# Low to high.  Within one rank, imports are free; an import to a higher rank is a failure.
LAYERS = [
    {"errors", "validate", "settings", "atomic", "jsonio", "fileio", "device", "distributed", "threads", "i18n",
     "allocator", "likelihoods", "__version__", "locale"},
    {"data"},
    {"models"},
    {"objectives"},
    {"eval"},           # knows models and data; not where runs are kept
    {"rundir"},         # run directories: saved models and their evaluation (rundir.evaluate)
    {"train"},
    {"viz"},
    {"lecture", "web"},
    {"cli"},
    {"vaekit", "__main__"},   # vaekit.load
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}

# The one documented way up: the model's documented methods ``model(x)`` (the ELBO) and
# ``log_prob`` (importance sampling) call the formulas that live in objectives, at call time.
ALLOWED = {("vaekit.models.vae", "vaekit.objectives.elbo"), ("vaekit.models.vae", "vaekit.objectives.iwae")}


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        yield ".".join(parts[:-1] if is_package else parts), is_package, path


def _imports(module: str, is_package: bool, path: Path):
    """(line, imported module) for every vaekit import in the file."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "vaekit")
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                if (node.module or "").split(".")[0] == "vaekit":
                    yield node.lineno, node.module
                continue
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[:len(base) - node.level + 1]
            if node.module:
                yield node.lineno, ".".join([*base, node.module])
            else:
                yield from ((node.lineno, ".".join([*base, a.name])) for a in node.names)


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "vaekit"


def test_every_package_has_a_layer():
    packages = {_package(m) for m, _, _ in _modules()}
    assert packages - RANK.keys() == set(), "give each new package a layer in LAYERS"


def test_no_layer_imports_upward():
    upward = []
    for module, is_package, path in _modules():
        for line, target in _imports(module, is_package, path):
            here, there = _package(module), _package(target)
            if RANK.get(there, 0) > RANK[here] and (module, target) not in ALLOWED:
                upward.append(f"{path.relative_to(SOURCE.parent)}:{line}: {here} imports {target}")
    assert upward == []


def test_the_named_breaks_stay_fixed():
    """The issue's three: models import nothing from eval, data nothing from models, eval nothing from rundir."""
    for module, is_package, path in _modules():
        for _, target in _imports(module, is_package, path):
            pair = (_package(module), _package(target))
            assert pair not in {("models", "eval"), ("data", "models"), ("eval", "rundir")}, (module, target)


def test_the_checker_sees_an_upward_import(tmp_path):
    """The test itself: a function-local import from a higher layer is found."""
    fake = tmp_path / "vaekit" / "models" / "bad.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from ..eval.likelihood import log_px\n    import vaekit.cli\n")
    found = [t for _, t in _imports("vaekit.models.bad", False, fake)]
    assert found == ["vaekit.eval.likelihood", "vaekit.cli"]
    assert all(RANK[_package(t)] > RANK["models"] for t in found)
