"""Issue 13, item 9: do the add-in tests fail on a deliberately broken add-in?

Run from the worktree root: ``.venv/bin/python tests/edge_cases/broken_addin.py``. For each
breakage, copies the project's sources to a temporary folder (beside a link to ``../shared``,
where the ribbon schema is), applies the breakage there, rebuilds ``territory.xlam`` in the
copy, runs the add-in tests of the copy in a subprocess (the copy first on ``PYTHONPATH``)
and prints a table: breakage | tests that failed | pytest summary line. The recorded output is
``broken_addin.md`` beside this file. Not collected by pytest.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
TESTS = ["tests/test_xlam.py", "tests/test_xlam_readers.py", "tests/test_xlam_versions.py"]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}: update this script"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


BREAKAGES = {
    "none (the sources as they are)": lambda repo: None,
    "(a) wrappers without Optional": lambda repo: _replace(
        repo / "excel_addin" / "build_xlam.py", '("Optional " if a in f.optional else "")', '""'),
    '(b) ribbon attribute fails the schema (size="huge")': lambda repo: _replace(
        repo / "excel_addin" / "ribbon.xml", 'size="large"', 'size="huge"'),
    "(c) made-up imageMso (CalculateNowPlease)": lambda repo: _replace(
        repo / "excel_addin" / "ribbon.xml", 'imageMso="CalculateNow"', 'imageMso="CalculateNowPlease"'),
}


def _copy(target: Path) -> Path:
    repo = target / "repo"
    repo.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", ".venv", ".git")
    for name in ("excel_addin", "territory_engine", "tests", "workbooks"):
        shutil.copytree(ROOT / name, repo / name, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, repo / name)
    if (ROOT.parent / "shared").is_dir():
        (target / "shared").symlink_to(ROOT.parent / "shared", target_is_directory=True)
    return repo


def run(breakage: str, apply) -> tuple[str, str]:
    with tempfile.TemporaryDirectory(prefix="broken-addin-") as folder:
        repo = _copy(Path(folder))
        apply(repo)
        env = {"PYTHONPATH": str(repo), "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": folder}
        built = subprocess.run([PYTHON, "excel_addin/build_xlam.py"], cwd=repo, env=env, capture_output=True,
                               text=True)
        assert built.returncode == 0, built.stderr
        where = subprocess.run([PYTHON, "-c", "import excel_addin; print(excel_addin.__file__)"], cwd=repo, env=env,
                               capture_output=True, text=True).stdout.strip()
        assert where.startswith(str(repo)), f"the tests would import {where}, not the copy"
        done = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf", *TESTS], cwd=repo,
                              env=env, capture_output=True, text=True)
    lines = done.stdout.strip().splitlines()
    failed = sorted({re.sub(r"\[.*\]$", "", line.split()[1].split("::")[-1]) for line in lines
                     if line.startswith("FAILED ")})
    return ", ".join(failed) or "(none)", lines[-1] if lines else done.stderr.strip()[-200:]


def main() -> int:
    print("| breakage | tests that failed | pytest summary line |")
    print("|---|---|---|")
    for breakage, apply in BREAKAGES.items():
        failed, summary = run(breakage, apply)
        print(f"| {breakage} | {failed} | {summary} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
