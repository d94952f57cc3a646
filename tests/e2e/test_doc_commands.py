"""Every ``meltano`` command in the README and docs/ parses with the installed Meltano (4.4):
each subcommand exists and takes the options shown. Meltano's own click parser reads them
(no project, nothing run), so a command in an old syntax (``meltano config PLUGIN set``,
``meltano lock --all``) fails here. What the commands do is run by the other e2e tests and
scripts/demo.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

#: Meltano's click tree walked from the top, one command at a time, as ``meltano`` would.
PARSER = r"""
import contextlib, io, json, sys
import click
from meltano.cli import cli

def protected(ctx):
    first = getattr(ctx, "_protected_args", None) or getattr(ctx, "protected_args", [])
    return [*first, *ctx.args]

def parse(command, args, parent=None):
    extra = {} if parent else {"obj": {"project": None}}  # no project: nothing is read
    ctx = command.make_context(command.name, list(args), parent=parent, **extra)
    if isinstance(command, click.Group):
        rest = protected(ctx)
        if rest:
            _, sub, sub_args = command.resolve_command(ctx, rest)
            parse(sub, sub_args, ctx)

problems = {}
for line in json.load(sys.stdin):
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # a prompt's text
            parse(cli, line[1:])
    except (click.exceptions.Exit, click.exceptions.Abort):
        pass  # parsed; an option's callback then exited or asked to confirm
    except click.ClickException as exc:
        problems[" ".join(line)] = exc.format_message()
print(json.dumps(problems))
"""


SHELL_OPERATORS = {"|", "||", "&&", ";", ">", ">>", "<", "&"}


def split_command(line: str, following: list[str]) -> list[str]:
    """A command as the shell splits it; a quote left open continues on the next lines."""
    for more in range(len(following) + 1):
        try:
            words = shlex.split("\n".join([line, *following[:more]]), comments=True)
        except ValueError:  # an unclosed quote
            continue
        operators = [i for i, word in enumerate(words) if word in SHELL_OPERATORS]
        return words[: operators[0]] if operators else words
    raise AssertionError(f"cannot split {line!r}")


def shown_commands() -> list[list[str]]:
    """The ``meltano …`` commands of the code blocks and inline code (comments dropped,
    continuations joined), split as a shell would."""
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8").replace("\\\n", " ")
        for block in re.findall(r"```[\w-]*\n(.*?)```", text, flags=re.DOTALL):
            lines = [raw.strip() for raw in block.splitlines()]
            for number, line in enumerate(lines):
                if line.startswith("meltano "):
                    found.append(split_command(line, lines[number + 1 :]))
        outside = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
        # indented code (a block inside a list item)
        found += [
            split_command(line.strip(), [])
            for line in outside.splitlines()
            if line.startswith("    ") and line.strip().startswith("meltano ")
        ]
        # inline code: `meltano run --full-refresh tap-slack-snow target-postgres`
        for span in re.findall(r"`(meltano [^`]+)`", outside):
            found.append(split_command(" ".join(span.split()), []))
    return found


def test_docs_show_meltano_commands() -> None:
    commands = shown_commands()
    assert len(commands) >= 15
    assert ["meltano", "config", "set", "--interactive", "tap-slack-snow"] in commands


def test_every_meltano_command_in_the_docs_parses(meltano_bin: Path) -> None:
    # Meltano reads a --from-ref file while parsing: the docs' placeholder is this clone.
    commands = [
        [word.replace("/path/to/tap-slack-snow", str(REPO)) for word in command]
        for command in shown_commands()
    ]
    python = meltano_bin.parent / "python"
    done = subprocess.run(
        [str(python), "-c", PARSER],
        input=json.dumps(commands),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        cwd=REPO,  # relative paths in the docs (hub/tap-slack-snow.yml) are the clone's
    )
    assert json.loads(done.stdout.splitlines()[-1]) == {}


@pytest.mark.parametrize(
    "line",
    ["meltano config tap-slack-snow set client_id 1", "meltano lock --update --all"],
)
def test_the_check_catches_old_syntax(meltano_bin: Path, line: str) -> None:
    python = meltano_bin.parent / "python"
    done = subprocess.run(
        [str(python), "-c", PARSER],
        input=json.dumps([shlex.split(line)]),
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert list(json.loads(done.stdout.splitlines()[-1])) == [line]
