"""pyproject.toml keeps minimums, requirements/ci.txt pins them, .ci/run runs the README's command."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from prescriptions import PROJECT_ROOT

PYPROJECT = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
LOCK = PROJECT_ROOT / "requirements" / "ci.txt"
CI = (PROJECT_ROOT / ".ci" / "run").read_text()
README = (PROJECT_ROOT / "README.md").read_text()


def locked() -> dict[str, str]:
    """Package -> version pinned by the lock."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        name, _, version = line.split("#", 1)[0].strip().partition("==")
        if version:
            pins[canonicalize_name(name)] = version.strip()
    return pins


def declared() -> list[Requirement]:
    """Every dependency pyproject.toml names, runtime and every extra."""
    extras = PYPROJECT["optional-dependencies"].values()
    return [Requirement(line) for line in PYPROJECT["dependencies"] + sum(extras, [])]


def test_the_lock_pins_every_declared_dependency_within_its_minimum():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in {LOCK.name}: run requirements/lock.sh"
        assert requirement.specifier.contains(pins[name]), (requirement, pins[name])


def test_pyproject_keeps_minimums_not_pins():
    for requirement in declared():
        assert all(spec.operator == ">=" for spec in requirement.specifier), requirement


def test_the_extras_split_test_e2e_and_dev():
    extras = {
        name: {canonicalize_name(Requirement(line).name) for line in lines}
        for name, lines in PYPROJECT["optional-dependencies"].items()
    }
    assert {"pytest", "hypothesis", "pypdf", "pdfplumber", "aiosmtpd"} <= extras["test"]
    assert extras["e2e"] == {"playwright"}
    assert extras["dev"] == {"ruff", "bandit"}
    runtime = {canonicalize_name(Requirement(line).name) for line in PYPROJECT["dependencies"]}
    for package in ("opencv-python-headless", "zxing-cpp", "segno", "svglib", "icalendar", "pyotp"):
        assert package in runtime


def test_ci_installs_the_lock_and_runs_the_readme_test_command():
    command = re.search(r"pip install -e '(\.\[[a-z0-9,]+\])' && pytest", README)
    assert command, "the README's test command"
    # The install half, then pytest once nothing is being installed (the PostgreSQL run starts
    # between the two, alongside the SQLite one).
    install = f"pip install -q -e '{command.group(1)}'\n"
    assert install in CI
    assert "pip install -q -r requirements/ci.txt" in CI
    assert CI.index("requirements/ci.txt") < CI.index(install)
    assert CI.index(install) < CI.index("\npytest -q -p no:cacheprovider ||")
    named = set(command.group(1)[2:-1].split(","))
    assert named <= set(PYPROJECT["optional-dependencies"])
