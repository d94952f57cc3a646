"""Packaging and published metadata: pyproject.toml, the Meltano Hub definition, meltano.yml
and the locked loader definitions agree with each other and with what the package imports.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
HUB = yaml.safe_load((REPO / "hub" / "tap-slack-snow.yml").read_text(encoding="utf-8"))
MELTANO = yaml.safe_load((REPO / "meltano.yml").read_text(encoding="utf-8"))
PACKAGE = REPO / "tap_slack_snow"

#: A dotted lowercase name (a Slack method such as ``oauth.v2.access``, a field path such as
#: ``authed_user.refresh_token``): Meltano Hub's tooling splits these unless in backticks.
DOTTED = re.compile(r"\b[a-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)+\b")


def meltano_extractor() -> dict[str, t.Any]:
    (found,) = [p for p in MELTANO["plugins"]["extractors"] if p["name"] == "tap-slack-snow"]
    return found


def hub_text_problems(text: str) -> list[str]:
    """What Meltano Hub's tooling trips on in a description or label."""
    problems = []
    if "..." in text or "\u2026" in text:
        problems.append("an ellipsis")
    outside_code = re.sub(r"`[^`]*`|https?://\S+", "", text)
    problems += [f"{name!r} not in backticks" for name in DOTTED.findall(outside_code)]
    return problems


def test_hub_text_check_catches_what_the_hub_trips_on() -> None:
    assert hub_text_problems("a user token (xoxp-...)") == ["an ellipsis"]
    assert hub_text_problems("from oauth.v2.access, e.g. this") == [
        "'oauth.v2.access' not in backticks",
        "'e.g' not in backticks",
    ]
    assert hub_text_problems("from `oauth.v2.access` (1000; 0.5 s)") == []
    assert hub_text_problems("see [docs](https://sdk.meltano.com/en/stream_maps.html)") == []


def test_project_urls_and_licence() -> None:
    project = PYPROJECT["project"]
    urls = project["urls"]
    assert urls["Repository"] == HUB["repo"]
    assert all(url.startswith(HUB["repo"]) for url in urls.values())
    assert HUB["docs"].startswith(HUB["repo"])
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    licence = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in licence
    assert "Version 2.0, January 2004" in licence
    assert "END OF TERMS AND CONDITIONS" in licence
    assert "version" in project["dynamic"]
    assert "Programming Language :: Python :: 3.14" in project["classifiers"]
    assert "optional-dependencies" not in project or "test" not in project["optional-dependencies"]


def module_owners() -> dict[str, list[str]]:
    """Top-level module -> distributions, from each installed distribution's file list.

    (``importlib.metadata.packages_distributions`` reads only top_level.txt on Python 3.10,
    which wheels built by hatchling and others do not have.)
    """
    owners: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        for file in dist.files or ():
            top = file.parts[0]
            if top.endswith((".dist-info", ".data")) or top in {"..", "__pycache__"}:
                continue
            name = top.removesuffix(".py") if len(file.parts) == 1 else top
            if name.isidentifier() and dist.metadata["Name"] not in owners.get(name, []):
                owners.setdefault(name, []).append(dist.metadata["Name"])
    return owners


def imported_distributions() -> set[str]:
    """Distributions of every third-party module that the package's code imports."""
    modules: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module.split(".")[0])
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m != "tap_slack_snow"}
    owners = module_owners()
    missing = sorted(m for m in third_party if m not in owners)
    assert not missing, f"imported but not installed: {missing}"
    return {canonicalize_name(dist) for m in third_party for dist in owners[m]}


def test_every_imported_library_is_declared() -> None:
    project = PYPROJECT["project"]
    # a runtime dependency, or an extra a user opts into (psycopg for token_store_url)
    requirements = [*project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        requirements += extra
    declared = {canonicalize_name(Requirement(r).name) for r in requirements}
    imported = imported_distributions()
    assert {"click", "pyyaml", "python-dotenv", "singer-sdk", "requests"} <= imported
    assert imported - declared == set()


def all_requirements() -> list[Requirement]:
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        found += [Requirement(r) for r in extra]
    for group in PYPROJECT["dependency-groups"].values():
        found += [Requirement(r) for r in group if isinstance(r, str)]
    return found


def test_zero_major_libraries_have_an_upper_bound() -> None:
    unbounded = []
    for requirement in all_requirements():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            installed = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue  # a group this environment did not install
        if installed.startswith("0."):
            bounded = any(s.operator in {"<", "<=", "==", "~="} for s in requirement.specifier)
            # ~=0.X.Y stops before 0.(X+1); ~=0.X would allow any 0.x, so it does not count.
            compatible_too_wide = any(
                s.operator == "~=" and s.version.count(".") < 2 for s in requirement.specifier
            )
            if not bounded or compatible_too_wide:
                unbounded.append(f"{requirement} (installed {installed})")
    assert unbounded == []


def test_dependency_groups_replace_the_test_extra() -> None:
    groups = PYPROJECT["dependency-groups"]
    assert {"test", "lint", "release", "dev"} <= set(groups)
    assert "s3" in PYPROJECT["project"]["optional-dependencies"]
    (s3,) = (Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["s3"])
    assert canonicalize_name(s3.name) == "singer-sdk"
    assert "s3" in s3.extras


def by_name(setting: dict[str, t.Any]) -> str:
    return t.cast("str", setting["name"])


def test_hub_definition_matches_meltano_yml() -> None:
    extractor = meltano_extractor()
    assert HUB["name"] == extractor["name"]
    assert HUB["namespace"] == extractor["namespace"]
    # The Hub wants its settings sorted by name; meltano.yml keeps the schema's order.
    assert sorted(HUB["settings"], key=by_name) == sorted(extractor["settings"], key=by_name)
    assert set(HUB["capabilities"]) == set(extractor["capabilities"])
    assert HUB["settings_group_validation"] == extractor["settings_group_validation"]
    assert HUB["commands"] == extractor["commands"]
    assert HUB["select"] == extractor["select"]
    assert HUB["pip_url"] == PYPROJECT["project"]["name"]


def test_hub_definition_is_complete_and_readable_by_the_hub() -> None:
    for key in ("variant", "label", "description", "logo_url", "keywords", "prereq"):
        assert HUB[key], key
    assert HUB["maintenance_status"] == "active"
    assert "test" in HUB["capabilities"]
    assert HUB["settings_group_validation"] == [
        ["client_id", "client_secret", "refresh_token"],
        ["access_token"],
    ]
    sensitive = {s["name"] for s in HUB["settings"] if s.get("sensitive")}
    assert sensitive == {
        "client_secret",
        "refresh_token",
        "access_token",
        "token_store_url",  # it may hold the database password
        "token_store_key",
    }
    problems = {
        s["name"]: hub_text_problems(s.get("description", "") + " " + s.get("label", ""))
        for s in HUB["settings"]
    }
    assert {name: p for name, p in problems.items() if p} == {}
    assert "tap-slack-snow-auth" in HUB["prereq"]
    assert {c["executable"] for c in HUB["commands"].values()} == {"tap-slack-snow-auth"}
    assert {c["args"].split()[0] for c in HUB["commands"].values()} == {
        "manifest",
        "authorize-url",
        "exchange",
        "check",
    }


@pytest.mark.parametrize("loader", MELTANO["plugins"]["loaders"], ids=lambda p: p["name"])
def test_loaders_by_variant_with_a_lock_file(loader: dict[str, t.Any]) -> None:
    # Only what a project may override: no namespace or settings, so Meltano treats it as
    # the Hub's plugin, not a custom one.
    assert set(loader) <= {"name", "variant", "pip_url", "config"}
    lock = REPO / "plugins" / "loaders" / f"{loader['name']}--{loader['variant']}.lock"
    definition = json.loads(lock.read_text(encoding="utf-8"))
    assert definition["plugin_type"] == "loaders"
    assert (definition["name"], definition["variant"]) == (loader["name"], loader["variant"])
    for key in ("namespace", "label", "docs", "repo", "pip_url", "settings"):
        assert definition[key], key
    names = {s["name"] for s in definition["settings"]}
    assert set(loader.get("config", {})) <= names


@pytest.fixture(scope="module")
def about() -> dict[str, t.Any]:
    """``tap-slack-snow --about --format json``, as Meltano Hub's tooling runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_slack_snow", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return t.cast("dict[str, t.Any]", json.loads(done.stdout))


#: JSON Schema type -> the Meltano kinds the definitions may use for it. Numbers are declared
#: integer there: Meltano 4.4 fails on a decimal setting set from an environment variable.
KINDS = {
    "string": {"string", "date_iso8601", "options"},
    "integer": {"integer"},
    "number": {"integer", "decimal"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array": {"array"},
}


def test_about_declares_what_the_hub_definition_says(about: dict[str, t.Any]) -> None:
    assert set(about["capabilities"]) == set(HUB["capabilities"])
    assert "test" in about["capabilities"]
    schema = about["settings"]
    # The settings groups are the required sets of the schema's anyOf (the rule the tap
    # checks); tests/test_hub_checks.py checks what the Hub's tooling reads (dependentRequired).
    groups = [option["required"] for option in schema["anyOf"]]
    assert groups == HUB["settings_group_validation"]
    properties = schema["properties"]
    hub = {s["name"]: s for s in HUB["settings"]}
    assert len(hub) == len(HUB["settings"]), "a setting is listed twice"
    assert sorted(hub) == sorted(properties)
    assert list(hub) == sorted(hub), "the Hub wants the settings sorted by name"
    for name, prop in properties.items():
        setting = hub[name]
        json_type = next(x for x in prop["type"] if x != "null")
        assert setting["kind"] in KINDS[json_type], name
        assert bool(setting.get("sensitive")) == bool(prop.get("secret")), name
        if "enum" in prop:
            assert [o["value"] for o in setting["options"]] == prop["enum"], name
        if "default" in prop:
            assert setting["value"] == prop["default"], name
    # The tap's own settings read the same in both; the SDK's built-ins keep the SDK's words.
    own = [name for name in properties if name in OWN_SETTINGS]
    assert len(own) == len(OWN_SETTINGS)
    for name in own:
        assert hub[name]["label"] == properties[name]["title"], name
        assert hub[name]["description"] == properties[name]["description"], name


def about_texts(node: t.Any) -> t.Iterator[tuple[str, str]]:
    """Every description and title in a JSON Schema, with where it is."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in {"description", "title"} and isinstance(value, str):
                yield key, value
            else:
                yield from about_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from about_texts(item)


def test_about_has_nothing_the_hub_tooling_trips_on(about: dict[str, t.Any]) -> None:
    problems = [(text, p) for _, text in about_texts(about) if (p := hub_text_problems(text))]
    assert problems == []
    assert hub_text_problems(about["description"]) == []


#: The settings the tap itself declares (the rest are the SDK's built-ins).
OWN_SETTINGS = {
    "client_id",
    "client_secret",
    "refresh_token",
    "access_token",
    "token_store_path",
    "api_url",
    "start_date",
    "edition",
    "token_store_url",
    "token_store_schema",
    "token_store_key",
    "team_id",
    "team_ids",
    "page_size",
    "on_unavailable",
    "emit_activate_version_messages",
    "request_timeout",
    "retry_max_attempts",
    "retry_initial_wait",
}


def test_workflow_actions_are_pinned_by_commit() -> None:
    """A tag can be moved; a commit hash cannot (the version stays in a comment, which
    Dependabot updates with the hash)."""
    pinned = re.compile(r"^[\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+$")
    uses = [
        line.split("uses:", 1)[1].strip()
        for workflow in sorted((REPO / ".github" / "workflows").glob("*.yml"))
        for line in workflow.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith(("uses:", "- uses:"))
    ]
    assert uses
    assert [use for use in uses if not pinned.match(use)] == []


def test_filelock_floor_has_the_symlink_fixes() -> None:
    (floor,) = [
        Requirement(r) for r in PYPROJECT["project"]["dependencies"] if r.startswith("filelock")
    ]
    # CVE-2025-68146 fixed in 3.20.1, CVE-2026-22701 in 3.20.3
    assert not floor.specifier.contains("3.20.2")
    assert floor.specifier.contains("3.20.3")


def locked_versions() -> dict[str, list[tuple[str, str]]]:
    """requirements/dev.lock as name -> [(version, marker)] (a name may be pinned twice,
    for different Pythons)."""
    pins: dict[str, list[tuple[str, str]]] = {}
    for line in (REPO / "requirements" / "dev.lock").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)(?: ; ([^\\]+?))?\s*(?:\\)?$", line)
        if match:
            name, version, marker = match.groups()
            pins.setdefault(canonicalize_name(name), []).append((version, marker or ""))
    return pins


def group_requirements(name: str) -> list[Requirement]:
    """A dependency group's requirements, its included groups expanded (PEP 735)."""
    found = []
    for item in PYPROJECT["dependency-groups"][name]:
        if isinstance(item, dict):
            found += group_requirements(item["include-group"])
        else:
            found.append(Requirement(item))
    return found


def lock_problems(wanted: list[Requirement], pins: dict[str, list[tuple[str, str]]]) -> list[str]:
    """Each requirement (for this Python) pinned once, at a version it allows."""
    problems = []
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = canonicalize_name(requirement.name)
        here = [v for v, marker in pins.get(name, []) if not marker or Marker(marker).evaluate()]
        if len(here) != 1 or not requirement.specifier.contains(here[0], prereleases=True):
            problems.append(f"{requirement}: locked {here or 'nothing'}")
    return problems


def test_the_lock_pins_everything_pyproject_asks_for_within_its_bounds() -> None:
    """scripts/test installs requirements/dev.lock; after a change to pyproject.toml,
    `scripts/lock` must be run (this fails until then)."""
    wanted = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    wanted += [Requirement(r) for r in PYPROJECT["project"]["optional-dependencies"]["postgres"]]
    wanted += group_requirements("dev")
    assert "--hash=sha256:" in (REPO / "requirements" / "dev.lock").read_text(encoding="utf-8")
    assert lock_problems(wanted, locked_versions()) == [], "run scripts/lock"


def test_the_lock_check_can_fail() -> None:
    pins = locked_versions()
    assert lock_problems([Requirement("filelock>=999")], pins) != []
    assert lock_problems([Requirement("not-a-locked-package")], pins) != []


def test_the_changelog_top_section_matches_the_built_version() -> None:
    """A .dev build (no release tag) has [Unreleased] on top and no released section
    without its git tag; a release build has its own version on top."""
    version = importlib.metadata.version("tap-slack-snow")
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    tags = subprocess.run(
        ["git", "tag", "--list", "v*"], capture_output=True, text=True, cwd=REPO, check=False
    ).stdout.split()
    released = [name for name in sections if name != "Unreleased"]
    assert [name for name in released if f"v{name}" not in tags] == []
    if ".dev" in version or version == "0.0.0":
        assert sections[0] == "Unreleased"
    else:
        assert sections[0] == version
