"""Tencent's own API specification, read from one pinned `tccli` wheel (never installed).

The `tccli` package ships, for every API 3.0 product, `tccli/services/<service>/<version>/api.json`
(each action's input and output members: type, `required`, `output_required`, `value_allowed_null`,
the action's `status` and `document`) and `examples.json` (the documented example requests and
replies). The project uses them as the judge of its emulator and its reading code (docs/testing-spec.md).

The wheel is fetched with `pip download --no-deps` (installing tccli would pull in the 167 MB
all-in-one SDK), its sha256 is checked against the pin below, and the JSON is read straight from the
zip. The cache is `.venv/tccli/` (made by `make`'s venv step, or here on first use), or the directory
`TCCLI_SPEC_CACHE` names.

Version: 3.1.189.1, the newest tccli on PyPI when pinned; its service JSON is the closest to the
per-product SDK packages of requirements*.txt (3.1.100 to 3.1.195).

    python -m tools.tccli_spec            # fetch (if needed) and verify the wheel; print its path
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import zipfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

VERSION = "3.1.189.1"
WHEEL = f"tccli-{VERSION}-py2.py3-none-any.whl"
SHA256 = "98ec6fdc56000f0947ae34d601bfb86e49824afe21f6deb03d1b259221bf871c"
ROOT = Path(__file__).resolve().parent.parent

_fetch_lock = threading.Lock()


class SpecUnavailable(RuntimeError):
    """The pinned wheel could not be fetched or does not match its pin."""


def cache_dir() -> Path:
    return Path(os.environ.get("TCCLI_SPEC_CACHE") or ROOT / ".venv" / "tccli")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_path() -> Path:
    """The verified wheel, downloaded first if the cache lacks it."""
    path = cache_dir() / WHEEL
    with _fetch_lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
                   "--only-binary=:all:", "-d", str(path.parent), f"tccli=={VERSION}"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0 or not path.exists():
                raise SpecUnavailable(f"could not fetch {WHEEL} ({' '.join(cmd)}): {done.stderr.strip()[-500:]}")
        actual = _sha256(path)
        if actual != SHA256:
            raise SpecUnavailable(f"{path} has sha256 {actual}, the pin is {SHA256}: delete it to fetch it again")
    return path


@lru_cache(maxsize=1)
def _wheel() -> zipfile.ZipFile:
    return zipfile.ZipFile(wheel_path())


# Products whose tccli folder is not their API 3.0 service name (api.json metadata `serviceShortName`: "as").
_FOLDERS = {"as": "autoscaling"}


def _read(service: str, version: str, name: str) -> Optional[Dict[str, Any]]:
    member = f"tccli/services/{_FOLDERS.get(service, service)}/v{version.replace('-', '')}/{name}"
    try:
        return json.loads(_wheel().read(member))
    except KeyError:
        return None


@lru_cache(maxsize=None)
def api(service: str, version: str) -> Optional[Dict[str, Any]]:
    """`api.json` of a product version (`"clb"`, `"2018-03-17"`), or None when tccli has none."""
    return _read(service, version, "api.json")


@lru_cache(maxsize=None)
def examples(service: str, version: str) -> Optional[Dict[str, Any]]:
    """`examples.json` of a product version: `{"actions": {Action: [{"title", "input", "output"}]}}`."""
    return _read(service, version, "examples.json")


def source(service: str, version: str) -> str:
    """How a citation names a file: `tccli 3.1.189.1 clb/v20180317/api.json`."""
    return f"tccli {VERSION} {_FOLDERS.get(service, service)}/v{version.replace('-', '')}/api.json"


if __name__ == "__main__":
    print(wheel_path())
