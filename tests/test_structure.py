"""Guard rails of the package's shape: who may import whom, and old runs still load."""

import ast
from pathlib import Path

import numpy as np
import pytest

import tsgan

PACKAGE = Path(tsgan.__file__).parent
FIXTURES = Path(__file__).parent / "fixtures"


def _imports(path: Path) -> set[str]:
    """Absolute names of the tsgan modules a file imports (relative imports resolved)."""
    module = ".".join(("tsgan", *path.relative_to(PACKAGE).with_suffix("").parts))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    package = package.removesuffix(".__init__")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rsplit(".", 1)[0]
            name = (f"{base}.{node.module}" if node.module else base) if node.level else node.module
            found.add(name)
            found.update(f"{name}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {n for n in found if n and (n == "tsgan" or n.startswith(("tsgan.", "tsgan_cli")))}


def _modules(under: str) -> list[Path]:
    return sorted((PACKAGE / under).rglob("*.py")) if (PACKAGE / under).is_dir() else [PACKAGE / f"{under}.py"]


def _offenders(under: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{p.relative_to(PACKAGE)} imports {n}" for p in _modules(under) for n in sorted(_imports(p)) if n.startswith(forbidden)]


def test_nothing_in_the_package_imports_the_cli_or_the_evaluation_layer():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "evaluate" in path.relative_to(PACKAGE).parts:
            continue
        bad += [f"{path.relative_to(PACKAGE)} imports {n}" for n in _imports(path) if n.startswith(("tsgan_cli", "tsgan.evaluate"))]
    assert bad == []


def test_metrics_never_import_training_and_data_never_imports_models():
    assert _offenders("metrics", ("tsgan.training", "tsgan.synthesizer", "tsgan.fitting")) == []
    assert _offenders("data", ("tsgan.models", "tsgan.training")) == []


def test_models_import_only_the_schedule_from_training():
    bad = [o for o in _offenders("models", ("tsgan.training",)) if not o.endswith(("tsgan.training.schedule",)) and ".schedule." not in o]
    assert bad == []


def test_the_estimator_and_the_cli_compare_no_data_kinds():
    for path in (PACKAGE / "synthesizer.py", PACKAGE / "fitting.py", PACKAGE.parent / "cli" / "main.py"):
        if not path.exists():  # an installed package without the CLI sources next to it
            continue
        text = path.read_text()
        assert "kind ==" not in text and "kind !=" not in text and '== "image"' not in text and '== "table"' not in text, path


@pytest.mark.parametrize("name", ["rcgan", "timegan"])
def test_a_run_saved_by_format_1_loads_and_samples_as_it_did(name):
    """tests/fixtures/run_v1_*: saved by tsgan 0.1 (format 1), with the samples it drew then."""
    run = tsgan.load(FIXTURES / f"run_v1_{name}")
    kw = {"condition": "low"} if name == "rcgan" else {}
    np.testing.assert_allclose(run.sample_array(3, seed=0, **kw), np.load(FIXTURES / f"run_v1_{name}_samples.npy"), rtol=1e-5, atol=1e-6)
    params = run.get_params()
    assert params["recipe"] == "paper" and params["seq_len"] == 6 and params["model"] == name
    if name == "rcgan":  # its EMA and LR decay came back as parameters; its condition column too
        assert params["ema"] == 0.9 and params["lr_decay"] == 0.5 and run.spec_.condition_columns == ["regime"]
        assert list(run.sample(2, seed=0, condition="high").columns) == ["sequence_id", "step", "regime", "a", "count"]
