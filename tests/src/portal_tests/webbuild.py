"""Builds the web portal (web/dist) when its sources changed: `make dev` and the browser tests.

The hash of everything the build reads is kept under .cache/; `npm ci` runs again only when
the lock file changed (or node_modules is missing), `npm run build` when any source did.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
WEB = ROOT / "web"
STAMPS = ROOT / ".cache" / "web-build"
INPUTS = (
    "package.json",
    "package-lock.json",
    "index.html",
    "vite.config.ts",
    "tsconfig.json",
    "postcss.config.cjs",
    "eslint.config.js",
)
INPUT_DIRS = ("src", "public", "scripts")


class WebBuildError(RuntimeError):
    pass


def _digest(paths: list[Path]) -> str:
    sha = hashlib.sha256()
    for path in sorted(paths):
        sha.update(path.relative_to(WEB).as_posix().encode() + b"\0")
        sha.update(path.read_bytes() + b"\0")
    return sha.hexdigest()


def sources_hash() -> str:
    files = [WEB / name for name in INPUTS if (WEB / name).is_file()]
    for folder in INPUT_DIRS:
        files += [p for p in (WEB / folder).rglob("*") if p.is_file()]
    return _digest(files)


def _run(args: list[str], log: list[str]) -> None:
    done = subprocess.run(args, cwd=WEB, capture_output=True, text=True, check=False)
    log.append(done.stdout[-4000:] + done.stderr[-4000:])
    if done.returncode != 0:
        raise WebBuildError(f"`{' '.join(args)}` failed in web/:\n{log[-1]}")


def ensure_web_build(say: bool = True) -> Path:
    """web/dist, rebuilt first if a source changed since the last build; raises if the
    build fails or npm is missing."""
    if shutil.which("npm") is None:
        raise WebBuildError("npm is not installed: the web portal cannot be built")
    STAMPS.mkdir(parents=True, exist_ok=True)
    lock_stamp, build_stamp = STAMPS / "npm-ci.sha256", STAMPS / "build.sha256"
    log: list[str] = []
    lock_hash = _digest([WEB / "package.json", WEB / "package-lock.json"])
    installed = (WEB / "node_modules" / ".package-lock.json").is_file()
    if not installed or not lock_stamp.is_file() or lock_stamp.read_text() != lock_hash:
        if say:
            print("[web] npm ci", flush=True)
        _run(["npm", "ci", "--no-audit", "--no-fund"], log)
        lock_stamp.write_text(lock_hash)
    source_hash = sources_hash()
    dist = WEB / "dist"
    built = (dist / "index.html").is_file()
    if not built or not build_stamp.is_file() or build_stamp.read_text() != source_hash:
        if say:
            print("[web] npm run build (sources changed)", flush=True)
        _run(["npm", "run", "build"], log)
        build_stamp.write_text(source_hash)
    elif say:
        print("[web] web/dist is up to date", flush=True)
    return dist
