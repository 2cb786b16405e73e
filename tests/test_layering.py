"""The floors of the house, and the one table of which package may import which.

Data flows one way (constitution → data → generate → train → evaluate → report), so a package may import
only packages on a lower floor:

    6  cli            typer apps: parse → call a library → render. Nothing imports it.
    5  recipe         the end-to-end run: wires every stage, caches them by their inputs.
    4  stages         generate, train, evaluate, guard, review, report: none imports another.
    3  judge          scores a reply to a benchmark case; evaluation, generation and the guard all call it.
    2  records        constitution, data: the typed records (Principle, BenchmarkItem, Prompt) and their loaders.
    1  ground         errors, paths, jsonl, progress, configfile (YAML → pydantic), rundir (resume checks, timestamps),
                      precision (bf16 per machine), models (chat models, the rollout, the response cache, the MiniLM
                      encoder).

``ALLOWED`` lists every edge: a new import across packages needs a row here, and the row must point down.
Above the records floor a package is entered only through its public face: ``conscience.<package>`` (its
``__init__``) or a module named in ``PUBLIC``, never another module inside it, so a stage can change its
internals without breaking anything far away. ``cli`` sits on top and may reach any module below it.
Every import counts, also one inside a function (a lazy import is still an edge).
"""

from __future__ import annotations

import ast
from pathlib import Path

import conscience

ROOT = Path(conscience.__file__).parent

FLOORS = {
    "errors": 1, "paths": 1, "jsonl": 1, "progress": 1, "configfile": 1, "rundir": 1, "precision": 1, "models": 1,
    "constitution": 2, "data": 2,
    "judge": 3,
    "generate": 4, "train": 4, "evaluate": 4, "guard": 4, "review": 4, "report": 4,
    "recipe": 5,
    "cli": 6,
}

GROUND = {"errors", "paths", "jsonl", "progress", "configfile", "rundir", "precision", "models"}
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "progress": set(),
    "jsonl": {"errors"},
    "configfile": {"errors"},
    "rundir": {"errors"},
    "precision": set(),
    "models": {"errors", "paths", "precision"},
    "constitution": {"configfile", "errors"},
    "data": {"errors", "jsonl", "models"},
    "judge": {"data", "errors", "jsonl", "models", "paths"},
    "generate": {"constitution", "data", "judge", *GROUND},
    "train": {"configfile", "errors", "jsonl", "models", "precision", "rundir"},
    "evaluate": {"data", "judge", *GROUND},
    "guard": {"constitution", "data", "judge", *GROUND},
    "review": {"constitution", *GROUND},
    "report": set(),
    "recipe": {"configfile", "constitution", "errors", "jsonl", "models", "precision", "generate", "train", "evaluate", "judge", "review",
               "report"},
    "cli": set(FLOORS) - {"cli"},
}

# Above the records floor, the modules (besides each package's __init__) other packages may import.
PUBLIC = {"conscience.evaluate.asclepius", "conscience.evaluate.utility", "conscience.evaluate.stats"}
OPEN_FLOORS = 2  # packages on floors up to this one are libraries of records and helpers: any module may be imported


def package_of(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def is_module(dotted: str) -> bool:
    """Whether ``conscience.a.b`` names a module or package inside the tree (not an attribute)."""
    relative = Path(*dotted.split(".")[1:])
    return (ROOT / relative).with_suffix(".py").is_file() or (ROOT / relative / "__init__.py").is_file()


def exported(package: str) -> set[str]:
    """The names in a package's ``__all__`` (its public face), empty for a plain module."""
    init = ROOT / Path(*package.split(".")[1:]) / "__init__.py"
    if not init.is_file():
        return set()
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def imports(path: Path) -> list[tuple[int, str]]:
    """Every ``conscience`` module this file imports, anywhere in it. ``from pkg import sub`` counts as ``pkg.sub``
    when ``sub`` is a module that ``pkg`` does not export under that name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: level 1 is this file's package, each further dot one package up
                package = ["conscience", *path.relative_to(ROOT).parent.parts]
                base = ".".join(package[: len(package) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            public = exported(module)
            for alias in node.names:
                submodule = alias.name not in public and is_module(f"{module}.{alias.name}")
                found.append((node.lineno, f"{module}.{alias.name}" if submodule else module))
    return [(line, name) for line, name in found if name == "conscience" or name.startswith("conscience.")]


def violations(root: Path = ROOT) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        if path == root / "__init__.py":
            continue
        source = package_of(path)
        for line, module in imports(path):
            parts = module.split(".")
            if len(parts) < 2:
                continue
            target = parts[1]
            where = f"{path.relative_to(root.parent)}:{line} imports {module}"
            if target == source:
                continue
            if target not in ALLOWED.get(source, set()):
                floors = f"{source} is on floor {FLOORS.get(source, '?')}, {target} on floor {FLOORS.get(target, '?')}"
                problems.append(f"{where}: {source} -> {target} is not an allowed edge ({floors})")
            elif source != "cli" and FLOORS[target] > OPEN_FLOORS and len(parts) > 2 and module not in PUBLIC:
                problems.append(f"{where}: reaches into {target}'s internals; import from conscience.{target} "
                                f"(or a module in PUBLIC)")
    return problems


def test_every_package_has_a_floor():
    packages = {package_of(p) for p in ROOT.rglob("*.py") if p != ROOT / "__init__.py"}
    assert packages == set(FLOORS), f"place these in FLOORS and ALLOWED: {sorted(packages ^ set(FLOORS))}"


def test_allowed_edges_point_down():
    upward = [f"{a} -> {b}" for a, targets in ALLOWED.items() for b in targets
              if FLOORS[b] > FLOORS[a] or (FLOORS[b] == FLOORS[a] and FLOORS[a] != 1)]
    assert not upward, f"edges that do not point to a lower floor: {upward}"
    assert not any("cli" in targets for targets in ALLOWED.values()), "nothing imports cli"


def test_imports_follow_the_floors():
    problems = violations()
    assert not problems, "imports that break the layering:\n" + "\n".join(problems)
