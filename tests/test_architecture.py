"""The layering contracts in pyproject.toml ([tool.importlinter]) hold."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert lint, "import-linter is a dev dependency: pip install -e '.[dev]'"
    result = subprocess.run([lint, "--config", str(ROOT / "pyproject.toml")], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_kubeskippy_is_installed_as_a_top_level_name():
    import kubeskippy.simulator  # noqa: F401  (installed under the kubeskippy name)

    site = [p for p in sys.path if p.endswith("site-packages")]
    for path in site:
        for banned in ("simulator", "functions", "detect", "audit", "function"):
            assert not (Path(path) / banned).exists(), f"{banned} must not be installed at top level"


def _imports_of(path: Path) -> set[str]:
    import ast

    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_simulator_reuses_the_core_and_imports_no_server_or_network_code():
    banned = ("kubeskippy.serving", "kubeskippy.services", "kubeskippy.mesh", "kubeskippy.adapters",
              "kubernetes", "minio", "httpx", "requests", "ollama", "openai", "func_python", "uvicorn")
    for path in (ROOT / "simulator").rglob("*.py"):
        for name in _imports_of(path):
            assert not name.startswith(banned), f"{path.relative_to(ROOT)} imports {name}"


def test_nothing_but_the_cli_imports_the_simulator():
    for path in (ROOT / "kubeskippy").rglob("*.py"):
        if path.is_relative_to(ROOT / "kubeskippy" / "cli"):
            continue
        for name in _imports_of(path):
            assert not name.startswith("kubeskippy.simulator"), f"{path.relative_to(ROOT)} imports {name}"
