"""The CLI imports a command's module only when it runs; the help it lists without
importing them must stay each command's own."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from gbconnect.cli.main import COMMANDS, main


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_help_is_the_commands_own(name: str) -> None:
    command = main.get_command(click.Context(main), name)
    assert command is not None
    assert command.name == name
    assert COMMANDS[name][1] == command.get_short_help_str(limit=1000)


def test_every_command_is_listed() -> None:
    assert main.list_commands(click.Context(main)) == sorted(COMMANDS)


def test_thirdparty_has_its_certificate_commands() -> None:
    group = main.get_command(click.Context(main), "thirdparty")
    assert isinstance(group, click.Group)
    assert "cert" in group.list_commands(click.Context(group))


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_nothing_of_the_service(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from gbconnect.cli import main\n"
        f"try:\n    main({args!r})\nexcept SystemExit as exit:\n    assert exit.code == 0\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'fastapi', 'starlette', 'argon2', 'lxml', 'pydantic', 'numpy'}"
        " or (m.startswith('gbconnect.') and m not in {'gbconnect.cli', 'gbconnect.cli.main'}))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
