"""Copy the tap's own settings from ``--about`` into meltano.yml and the Hub definition.

The tap's settings schema (``tap_slack_snow/config_schema.py``) is the one source of each setting's
name, kind, label, description, default and sensitivity; ``tests/test_packaging.py`` fails
when meltano.yml's extractor or ``hub/tap-slack-snow.yml`` says something else. Run this
after adding or rewording a setting::

    .venv/bin/python scripts/sync_settings.py

Only the ``settings:`` list of meltano.yml is rewritten. The Hub definition is rewritten
whole, every mapping's keys and the settings sorted by name, as Meltano Hub's yamllint
configuration (``key-ordering``) and its formatter want it. The SDK's built-in settings
(stream maps, flattening, batch) keep the entries the files already have.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import typing as t
from itertools import takewhile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
KIND_OF_TYPE = {
    "string": "string",
    "integer": "integer",
    # Meltano 4.4 fails on a decimal-kind setting taken from an environment variable.
    "number": "integer",
    "boolean": "boolean",
    "array": "array",
    "object": "object",
}


def about_settings() -> dict[str, dict[str, t.Any]]:
    """The tap's settings schema, as ``--about --format json`` prints it."""
    done = subprocess.run(
        [sys.executable, "-m", "tap_slack_snow", "--about", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    return t.cast("dict[str, dict[str, t.Any]]", json.loads(done.stdout)["settings"]["properties"])


def own_setting(name: str, prop: dict[str, t.Any], before: dict[str, t.Any]) -> dict[str, t.Any]:
    """A Meltano setting for one of the tap's own properties (extra keys kept from before)."""
    json_type = next(x for x in prop["type"] if x != "null")
    setting: dict[str, t.Any] = {"name": name, "kind": KIND_OF_TYPE[json_type]}
    if "enum" in prop:
        setting["kind"] = "options"
        setting["options"] = [{"label": str(v).title(), "value": v} for v in prop["enum"]]
        setting["options"] = before.get("options", setting["options"])
    if "default" in prop:
        setting["value"] = prop["default"]
    if prop.get("secret"):
        setting["sensitive"] = True
    if before.get("kind") in {"date_iso8601"}:
        setting["kind"] = before["kind"]
    setting["label"] = prop["title"]
    setting["description"] = prop["description"]
    return setting


def synced(settings: list[dict[str, t.Any]], own: dict[str, dict[str, t.Any]]) -> list[t.Any]:
    """The settings list with the tap's own settings first, in the schema's order."""
    existing = {s["name"]: s for s in settings}
    result = [own_setting(name, prop, existing.get(name, {})) for name, prop in own.items()]
    # the SDK's built-ins, once each, as the file has them
    result += [s for name, s in existing.items() if name not in own]
    return result


def rewrite_block(path: Path, indent: str, settings: list[t.Any]) -> None:
    """Replace the ``settings:`` list at ``indent`` in ``path`` with ``settings``."""
    text = path.read_text(encoding="utf-8")
    # the list: its items, their continuation lines, comments and blank lines between them
    pattern = re.compile(
        rf"^{indent}settings:\n(?:{indent}[- #].*\n|[ \t]*\n)+", flags=re.MULTILINE
    )
    dumped = yaml.safe_dump(settings, sort_keys=False, width=88 - len(indent), allow_unicode=True)
    body = "".join(f"{indent}{line}\n" for line in dumped.splitlines())
    new, count = pattern.subn(lambda _: f"{indent}settings:\n{body}", text, count=1)
    if count != 1:
        raise SystemExit(f"{path}: no settings list at indent {len(indent)}")
    path.write_text(new, encoding="utf-8")


def main() -> None:
    """Sync meltano.yml's extractor and the Hub definition with the tap's schema."""
    properties = about_settings()
    builtin = {
        name
        for name in properties
        if name.startswith(("stream_map", "faker_", "flattening_", "batch_"))
    }
    own = {name: prop for name, prop in properties.items() if name not in builtin}

    meltano = REPO / "meltano.yml"
    extractor = yaml.safe_load(meltano.read_text(encoding="utf-8"))["plugins"]["extractors"][0]
    rewrite_block(meltano, "    ", synced(extractor["settings"], own))

    hub = REPO / "hub" / "tap-slack-snow.yml"
    write_hub_definition(hub, synced(yaml.safe_load(hub.read_text())["settings"], own))


class BlockTextDumper(yaml.SafeDumper):
    """Text of several lines (``prereq``, ``settings_preamble``) as a ``|`` block."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


BlockTextDumper.add_representer(str, _text)


def write_hub_definition(path: Path, settings: list[dict[str, t.Any]]) -> None:
    """The Hub definition with these settings, sorted as Meltano Hub's lint wants it; the
    comment lines at its top are kept."""
    text = path.read_text(encoding="utf-8")
    comments = takewhile(lambda line: line.startswith("#"), text.splitlines())
    header = "".join(f"{line}\n" for line in comments)
    definition = yaml.safe_load(text)
    definition["settings"] = sorted(settings, key=lambda setting: setting["name"])
    body = yaml.dump(
        definition, Dumper=BlockTextDumper, sort_keys=True, width=88, allow_unicode=True
    )
    path.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main()
