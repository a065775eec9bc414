"""Exit 1 unless the installed packages are exactly the lock's (names and versions)."""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions

#: Installed but never locked: the installer's own tools and the project itself.
UNLOCKED = {"pip", "setuptools", "wheel", "floorplan"}


def normalised(name: str) -> str:
    """A package name as PyPI compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions(lines: list[str]) -> dict[str, str]:
    """Package -> version, from the lock's `name==version` lines."""
    found = {}
    for line in lines:
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if version:
            found[normalised(name)] = version.strip()
    return found


def main(lock_path: str) -> int:
    """Compare the installed distributions with the lock and name every difference."""
    with open(lock_path, encoding="utf-8") as lock:
        locked = locked_versions(lock.readlines())
    installed = {normalised(d.metadata["Name"]): d.version for d in distributions()}
    installed = {name: version for name, version in installed.items() if name not in UNLOCKED}
    problems = [
        f"{name}: installed {installed.get(name, 'nothing')}, locked {locked.get(name, 'nothing')}"
        for name in sorted(set(locked) | set(installed))
        if installed.get(name) != locked.get(name)
    ]
    if problems:
        print(f"{lock_path} is not what is installed; run requirements/lock.sh in the venv where")
        print("the suite passed and commit the result:")
        print("\n".join(f"  {line}" for line in problems))
        return 1
    print(f"Installed packages match {lock_path} ({len(locked)} pinned).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
