"""The deployment zip: ``python -m devstack package`` builds build/package/deployment.zip; its size zipped and unzipped against Lambda's limits (50 MB zipped, 250 MB unzipped), the biggest parts, and the memory size the package asks for."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

TITLE = "Deployment package"
ROOT = Path(__file__).resolve().parent.parent
ZIP = ROOT / "build" / "package" / "deployment.zip"
MB = 1024 * 1024
GOAL_UNZIPPED_MB = 30
BUILD_TOOLS = (
    "pip",
    "setuptools",
    "wheel",
    "wcwidth",
    "blessed",
    "yaml",
    "_yaml",
    "inquirer",
    "readchar",
    "editor",
    "click",
)


def part(name: str) -> str:
    """The top-level package a zip entry belongs to (``babel/locale-data`` kept apart)."""
    top = name.split("/", 1)[0]
    for dist in (".dist-info", ".data"):
        if top.endswith(dist):
            return "*.dist-info"
    if name.startswith("babel/locale-data/"):
        return "babel/locale-data"
    if (
        name.startswith("phonenumbers/geodata/")
        or name.startswith("phonenumbers/carrierdata/")
        or name.startswith("phonenumbers/tzdata/")
    ):
        return "phonenumbers/" + name.split("/")[1]
    return top


def memory_size() -> tuple[int, str]:
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    asked = config.get("lambda_memory_size") or config["stages"].get("prod", {}).get("lambda_memory_size")
    if asked:
        return int(asked), "set in .chalice/config.json"
    return 128, "not set in .chalice/config.json: Chalice's default, 128 MB"


def main() -> dict[str, Any]:
    built = subprocess.run([sys.executable, "-m", "devstack", "package"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0 or not ZIP.exists():
        print(f"devstack package failed:\n{built.stdout[-2000:]}\n{built.stderr[-2000:]}")
        return {}
    sizes: Counter[str] = Counter()
    with zipfile.ZipFile(ZIP) as archive:
        infos = archive.infolist()
        for info in infos:
            sizes[part(info.filename)] += info.file_size
    zipped, unzipped = ZIP.stat().st_size / MB, sum(sizes.values()) / MB
    tools = {name: sizes[name] / MB for name in BUILD_TOOLS if sizes.get(name)}
    memory, why = memory_size()
    print(f"deployment.zip       {zipped:6.1f} MB zipped   (Lambda limit 50 MB: {zipped / 50:.0%} of it)")
    print(
        f"unzipped             {unzipped:6.1f} MB          (Lambda limit 250 MB: {unzipped / 250:.0%}; goal <= {GOAL_UNZIPPED_MB} MB: {'met' if unzipped <= GOAL_UNZIPPED_MB else 'missed'})"
    )
    print(f"files                {len(infos):6}")
    print("biggest parts, unzipped:")
    for name, size in sizes.most_common(15):
        print(f"  {size / MB:6.1f} MB  {name}")
    print(
        "build tools in the zip (pulled in by the chalice CLI, not needed at run time): "
        + (", ".join(f"{k} {v:.1f} MB" for k, v in tools.items()) or "none")
    )
    print(f"Lambda memory size: {memory} MB ({why})")
    return {
        "zipped_mb": zipped,
        "unzipped_mb": unzipped,
        "parts": {k: v / MB for k, v in sizes.most_common(15)},
        "build_tools_mb": sum(tools.values()),
        "memory_mb": memory,
        "memory_why": why,
    }


def headline(figures: dict[str, Any] | None) -> list[str]:
    if not figures:
        return []
    return [
        f"Deployment zip: {figures['zipped_mb']:.1f} MB zipped (limit 50), {figures['unzipped_mb']:.1f} MB unzipped (limit 250; goal <= {GOAL_UNZIPPED_MB}: {'met' if figures['unzipped_mb'] <= GOAL_UNZIPPED_MB else 'missed'}); Lambda memory {figures['memory_mb']} MB"
    ]


if __name__ == "__main__":
    main()
