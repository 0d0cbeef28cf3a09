"""`make vendor`: copy the files we ship from npm packages into the repository.

Downloads each pinned package's tarball from the npm registry, checks it against the sha512
integrity pinned here and published in the registry's metadata, and writes only the files
listed below, each package's licence included. The results are committed, so that a clone,
CI and the production image need neither the network nor Node.js for them.

    make vendor                                 refresh every package
    make vendor ARGS="--only lucide-static"     one of them

To move a package to another version, change its version, run the script once (it stops
and prints the new version's integrity), paste that integrity here and run it again.
To use another icon, add its name to ICONS and run `make vendor`.

Standard library only: it runs before the virtual environment exists, with Python 3.11 or newer.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import tarfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = "https://registry.npmjs.org"

# The Lucide icons the templates use, as `{% icon "name" %}` (crm/templatetags/crm_tags.py).
ICONS = [
    "alarm-clock", "arrow-up-down", "at-sign", "bell", "building-2", "calendar",
    "calendar-clock", "check", "chevron-down", "chevron-left", "chevron-right", "circle",
    "circle-check", "clipboard-list", "clock", "columns-3", "command", "download", "eye",
    "file-text", "filter", "history", "home", "inbox", "keyboard", "list", "list-checks",
    "log-out", "mail", "menu", "merge", "message-circle", "message-square", "messages-square",
    "more-horizontal", "paperclip", "pencil", "phone", "plus", "search", "send", "settings",
    "sliders-horizontal", "sticky-note", "trash-2", "upload", "users", "x", "handshake",
    "kanban", "chart-column", "trophy", "circle-x", "rotate-ccw", "grip-vertical",
    "trending-up", "hourglass",
]  # fmt: skip

INTER_WEIGHTS = (400, 500, 600, 700)


@dataclass(frozen=True)
class Package:
    """One npm package at a pinned version, and what to take from its tarball."""

    name: str
    version: str
    integrity: str
    # Path inside the tarball's package/ folder → path in this repository.
    files: dict[str, str]
    # Builds further files from the tarball's members: path in this repository → content.
    build: Callable[[tarfile.TarFile], dict[str, bytes]] | None = field(default=None)


def _lucide_sprite(tar: tarfile.TarFile) -> dict[str, bytes]:
    """One <symbol> per icon in ICONS, with the icon's name as its id."""
    symbols = []
    for name in sorted(ICONS):
        svg = _read(tar, f"icons/{name}.svg").decode()
        view_box = re.search(r'viewBox="([^"]+)"', svg)
        body = re.search(r"<svg\b[^>]*>(.*)</svg>", svg, re.DOTALL)
        if not (view_box and body):
            raise SystemExit(f"lucide-static: icons/{name}.svg is not an <svg> we can read")
        shapes = "".join(line.strip() for line in body.group(1).splitlines())
        symbols.append(f'<symbol id="{name}" viewBox="{view_box.group(1)}">{shapes}</symbol>')
    sprite = (
        f"<!-- lucide-static {LUCIDE.version}, ISC (LICENSE beside this file); "
        "written by `make vendor` from the icon list in scripts/vendor.py -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg">\n' + "\n".join(symbols) + "\n</svg>\n"
    )
    return {"static/vendor/lucide/sprite.svg": sprite.encode()}


INTER = Package(
    name="@fontsource/inter",
    version="5.3.0",
    integrity="sha512-RofMylZmjlJEfELXeNHFWBRcSs75rGU/6bV2S2jfnvv/3rPXPGe0LgUJTklcHZ9lM4OZmAVFhcJPnACfb91A3g==",
    files={
        "LICENSE": "static/vendor/inter/LICENSE",
        **{
            f"files/inter-latin-{weight}-normal.woff2": (
                f"static/vendor/inter/inter-latin-{weight}-normal.woff2"
            )
            for weight in INTER_WEIGHTS
        },
    },
)
LUCIDE = Package(
    name="lucide-static",
    version="1.87.0",
    integrity="sha512-PqBn/aXv1MQLE18HqRO9iBzaH7nehke0Yu9B1Js/PFv0penav2j7LcyHr7lf30ssB1cNjW13OkuYmFfOwYGj+g==",
    files={"LICENSE": "static/vendor/lucide/LICENSE"},
    build=_lucide_sprite,
)
# For the browser tests only: the product never serves it.
AXE = Package(
    name="axe-core",
    version="4.14.1",
    integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
    files={
        "axe.min.js": "tests/e2e/vendor/axe.min.js",
        "LICENSE": "tests/e2e/vendor/LICENSE",
        "LICENSE-3RD-PARTY.txt": "tests/e2e/vendor/LICENSE-3RD-PARTY.txt",
    },
)
PACKAGES = [INTER, LUCIDE, AXE]


def _get(url: str) -> bytes:
    if not url.startswith(f"{REGISTRY}/"):
        raise SystemExit(f"refusing to download from outside the npm registry: {url}")
    # The scheme and host are checked just above: only the npm registry, over HTTPS.
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310  # nosec B310
        return bytes(response.read())


def _sha512(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def _read(tar: tarfile.TarFile, path: str) -> bytes:
    member = tar.extractfile(f"package/{path}")
    if member is None:
        raise SystemExit(f"package/{path} is not a file in the tarball")
    return member.read()


def _fetch(package: Package) -> tarfile.TarFile:
    """The package's tarball, once its integrity matches both the pin and the registry."""
    name = package.name.replace("/", "%2f")
    metadata = json.loads(_get(f"{REGISTRY}/{name}/{package.version}"))
    published = metadata["dist"]["integrity"]
    if published != package.integrity:
        raise SystemExit(
            f"{package.name}@{package.version}: the registry publishes integrity\n"
            f"  {published}\nbut scripts/vendor.py pins\n  {package.integrity or '(nothing)'}\n"
            "Check the version is the one you meant, then pin the published value."
        )
    data = _get(metadata["dist"]["tarball"])
    if _sha512(data) != package.integrity:
        raise SystemExit(f"{package.name}@{package.version}: the tarball fails its integrity")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def vendor(package: Package) -> list[Path]:
    """Write the package's files into the repository; returns the paths written."""
    with _fetch(package) as tar:
        outputs = {target: _read(tar, source) for source, target in package.files.items()}
        if package.build:
            outputs.update(package.build(tar))
    written = []
    for target, content in outputs.items():
        path = ROOT / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Copy the files we ship from npm packages.")
    parser.add_argument("--only", choices=[p.name for p in PACKAGES], help="one package")
    args = parser.parse_args()
    for package in PACKAGES:
        if args.only in (None, package.name):
            for path in vendor(package):
                print(f"{package.name}@{package.version}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
