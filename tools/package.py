"""`make package`: the SCF deploy package, `dist/package/` (what serverless.yml deploys) and
`dist/clb-unbind.zip`.

Contents: `handler/index.py` and `handler/clb_unbind/` at the root, plus the runtime dependencies of
requirements.txt installed for the runtime serverless.yml names (Python3.10 -> CPython 3.10,
manylinux2014 x86-64 wheels only). Not shipped: tests, the emulator, the bench, `__pycache__`/`*.pyc`
(they would be for the build machine's Python, not the runtime's), console scripts (`bin/`), type
stubs (`*.pyi`, `py.typed`), and the parts of `*.dist-info` only pip reads (RECORD, INSTALLER,
REQUESTED, direct_url.json, console-script entry points). Kept: every licence file, METADATA, WHEEL,
top_level.txt, SBOMs.

    python -m tools.package [--python-version 3.10] [--no-smoke]

When a Python of the runtime's version is on this machine (pyenv or PATH), the package is smoke-tested
with it: `import index` from dist/package, which loads pydantic_core's compiled extension.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
HANDLER = ROOT / "handler"
DIST = ROOT / "dist"
PACKAGE = DIST / "package"
ZIP = DIST / "clb-unbind.zip"
REQUIREMENTS = ROOT / "requirements.txt"
SERVERLESS = ROOT / "serverless.yml"
PLATFORM = "manylinux2014_x86_64"
GOAL_BYTES = 8 * 1024 * 1024
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same sources give the same zip

DIST_INFO_DROP = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
LICENCE = re.compile(r"^(licen[cs]e|copying|notice|authors|patents)", re.I)
SCRIPT_GROUPS = {"console_scripts", "gui_scripts"}


def runtime_python_version(serverless: Path = SERVERLESS) -> str:
    """`runtime: Python3.10` in serverless.yml -> "3.10"."""
    match = re.search(r"^\s*runtime:\s*Python\s*(\d+\.\d+)\s*$", serverless.read_text(), re.M | re.I)
    if not match:
        raise SystemExit(f"no `runtime: PythonX.Y` in {serverless}")
    return match.group(1)


def copy_handler(dest: Path, source: Path = HANDLER) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "index.py", dest / "index.py")
    shutil.copytree(source / "clb_unbind", dest / "clb_unbind", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))


def install_dependencies(dest: Path, python_version: str, requirements: Path = REQUIREMENTS) -> None:
    cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
           "--target", str(dest), "--platform", PLATFORM, "--implementation", "cp",
           "--python-version", python_version, "--only-binary=:all:", "-r", str(requirements)]
    print("+", " ".join(cmd[2:]), flush=True)
    done = subprocess.run(cmd, capture_output=True, text=True)
    # This machine's pip configuration names local package indexes that may be absent: pip warns once
    # per package about each. Those lines are noise; anything else pip says is shown.
    noise = re.compile(r"^WARNING: Location 'file://.*' is ignored")
    for line in (done.stdout + done.stderr).splitlines():
        if line.strip() and not noise.match(line):
            print("  pip:", line, flush=True)
    if done.returncode != 0:
        raise SystemExit(f"pip install failed with exit status {done.returncode}")


def _scripts_only(entry_points: Path) -> bool:
    groups = set(re.findall(r"^\s*\[([^\]]+)\]\s*$", entry_points.read_text(errors="replace"), re.M))
    return groups <= SCRIPT_GROUPS


def prune(root: Path) -> List[Path]:
    """Remove what the runtime never reads; returns what was removed (relative paths)."""
    removed: List[Path] = []

    def drop(path: Path) -> None:
        removed.append(path.relative_to(root))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()

    if (root / "bin").is_dir():
        drop(root / "bin")
    for path in sorted(root.rglob("*"), reverse=True):  # children before their directories
        if not path.exists() and not path.is_symlink():
            continue
        name = path.name
        if path.is_dir() and name == "__pycache__":
            drop(path)
        elif path.is_file() and (name.endswith((".pyc", ".pyo", ".pyi")) or name == "py.typed"):
            drop(path)
        elif path.is_file() and path.parent.name.endswith(".dist-info"):
            if name in DIST_INFO_DROP or (name == "entry_points.txt" and _scripts_only(path)):
                drop(path)
    return removed


def check_contents(root: Path, bytecode_tag: str = "") -> List[str]:
    """Problems with a built package: what must be there, and what must not."""
    problems = []
    for must in ("index.py", "clb_unbind/__init__.py", "clb_unbind/app.py", "tencentcloud/common", "pydantic", "pydantic_core",
                 "pythonjsonlogger"):
        if not (root / must).exists():
            problems.append(f"missing {must}")
    for never in ("tests", "emulator", "bench", "tools", "chaos", "demo", "bin", "deploy"):
        if (root / never).exists():
            problems.append(f"must not ship {never}/")
    # The operator tool's SDK packages (requirements-ops.txt) are for the operator's machine only.
    for never in ("tencentcloud/scf", "tencentcloud/cam"):
        if (root / never).exists():
            problems.append(f"must not ship {never}/ (an operator package)")
    for path in root.rglob("*"):
        if path.suffix in (".pyc", ".pyo") and not path.name.endswith(f".{bytecode_tag}.pyc"):
            problems.append(f"must not ship {path.relative_to(root)} (bytecode of another Python)")
            break
    return problems


def compile_bytecode(root: Path, python: str) -> bool:
    """Compile with the runtime's own Python: SCF's code directory is read-only, so without shipped
    bytecode every cold start compiles every module (bench: `import index` 0.88 s instead of 0.22 s).

    Why `.pyc` files ship at all is that cold start; what makes them reproducible is the invalidation
    mode. The default (timestamp) writes each source's mtime into its `.pyc`, and pip gives every
    installed file a new mtime, so two builds of the same sources differed in 257 files. With
    ``unchecked-hash`` (PEP 552) the header holds a hash of the source instead, and the import system
    loads the `.pyc` without reading the source again: right for a package that is never edited in place.
    ``PYTHONHASHSEED=0``: a set constant (``x in {"a", "b"}``) is marshalled in iteration order, which
    string hash randomisation changes from run to run (30 files still differed without it).
    ``-s root``: each code object records its file relative to the package root, not the build
    machine's checkout path, so two clones in two directories build the same bytes."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    out = subprocess.run([python, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
                          "-s", str(root), str(root)],
                         capture_output=True, text=True, timeout=600, env=env)
    return out.returncode == 0


def entry_mode(name: str) -> int:
    """A file's mode in the zip, from its name alone (the build machine's umask and pip's choices must
    not reach the bytes): compiled extensions 0755, everything else 0644."""
    return 0o755 if name.endswith(".so") or ".so." in name else 0o644


def write_zip(source: Path, target: Path) -> int:
    """Entries sorted by path, every timestamp ZIP_TIME, modes by :func:`entry_mode`, no directory
    entries, created-on Unix: the same tree gives the same bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted((p.relative_to(source).as_posix(), p) for p in source.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | entry_mode(name)) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    os.replace(tmp, target)
    return target.stat().st_size


def tree_size(root: Path) -> Tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return len(files), sum(p.stat().st_size for p in files)


def biggest(root: Path, n: int = 6) -> List[Tuple[str, int]]:
    sizes = []
    for top in root.iterdir():
        files: Iterable[Path] = [top] if top.is_file() else (p for p in top.rglob("*") if p.is_file())
        sizes.append((top.name, sum(p.stat().st_size for p in files)))
    return sorted(sizes, key=lambda kv: -kv[1])[:n]


def find_python(version: str) -> Optional[str]:
    """An interpreter of the runtime's version on this machine, if any (PATH, then pyenv)."""
    found = shutil.which(f"python{version}")
    if found and _is_version(found, version):
        return found
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    for candidate in sorted(Path(root, "versions").glob(f"{version}.*"), reverse=True):
        exe = candidate / "bin" / "python"
        if exe.exists() and _is_version(str(exe), version):
            return str(exe)
    return None


def _is_version(exe: str, version: str) -> bool:
    try:
        out = subprocess.run([exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return out.returncode == 0 and out.stdout.strip() == version


def smoke_test(root: Path, python: str) -> str:
    """Import the function from the package with the runtime's Python; returns a one-line verdict."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); sys.dont_write_bytecode = True; import index, pydantic_core; "
            "print('ok', pydantic_core.__version__)")
    out = subprocess.run([python, "-I", "-c", code, str(root)], capture_output=True, text=True, timeout=120,
                         env={"PATH": os.environ.get("PATH", ""), "PYTHONDONTWRITEBYTECODE": "1"})
    if out.returncode != 0:
        return "FAILED: " + (out.stderr.strip().splitlines() or ["?"])[-1]
    return out.stdout.strip()


def mb(n: int) -> str:
    return f"{n / 1024 / 1024:.2f} MB"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.package", description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-version", default=None, help="runtime Python (default: serverless.yml's runtime)")
    parser.add_argument("--no-smoke", action="store_true", help="skip the import test with the runtime's Python")
    args = parser.parse_args(argv)
    version = args.python_version or runtime_python_version()
    print(f"building {PACKAGE.relative_to(ROOT)} for CPython {version} on {PLATFORM}", flush=True)
    if PACKAGE.exists():
        shutil.rmtree(PACKAGE)
    copy_handler(PACKAGE)
    install_dependencies(PACKAGE, version)
    files_before, bytes_before = tree_size(PACKAGE)
    removed = prune(PACKAGE)
    _, pruned_size = tree_size(PACKAGE)
    python = None if args.no_smoke else find_python(version)
    tag = "cpython-" + version.replace(".", "")
    if python and compile_bytecode(PACKAGE, python):
        print(f"compiled bytecode with {python} ({tag})")
    else:
        print(f"no Python {version} here: shipping source only, so SCF compiles it at every cold start")
    problems = check_contents(PACKAGE, tag)
    files, unpacked = tree_size(PACKAGE)
    size = write_zip(PACKAGE, ZIP)
    print(f"pruned {len(removed)} paths ({mb(bytes_before - pruned_size)}): __pycache__, bin/, *.pyi, py.typed, "
          f"dist-info RECORD/INSTALLER/REQUESTED/console entry points")
    print(f"{PACKAGE.relative_to(ROOT)}: {files} files, {mb(unpacked)} unpacked; largest: "
          + ", ".join(f"{name} {mb(n)}" for name, n in biggest(PACKAGE)))
    verdict = "met" if size <= GOAL_BYTES else "MISSED"
    print(f"{ZIP.relative_to(ROOT)}: {size} bytes = {mb(size)} (goal <= {mb(GOAL_BYTES)}: {verdict}, "
          f"{(GOAL_BYTES - size) / GOAL_BYTES:+.0%} headroom)")
    if not args.no_smoke:
        print(f"smoke test (import index with Python {version}): "
              + (smoke_test(PACKAGE, python) + f" [{python}]" if python else f"skipped, no Python {version} here"))
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
