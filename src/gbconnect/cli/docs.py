"""``gbconnect docs build``: the developer guide as a static site (MkDocs), which
``gbconnect serve`` answers at /developers/ (gbconnect.developers)."""

from __future__ import annotations

from pathlib import Path

import click

from gbconnect.developers import BuildError, build_site, default_site_dir


@click.group()
def docs() -> None:
    """The developer guide (docs/developers) served at /developers/."""


@docs.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the site to (default: build/developers in the source tree, "
    "where `gbconnect serve` looks unless GBCONNECT_DEVELOPER_DOCS_DIR says otherwise).",
)
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The MkDocs configuration (default: mkdocs.yml at the source tree's root).",
)
@click.option(
    "--strict/--no-strict",
    default=True,
    show_default=True,
    help="Fail on any warning (a broken link, a page missing from the navigation).",
)
def docs_build(out: Path | None, config: Path | None, strict: bool) -> None:
    """Build the developer guide with MkDocs (the `docs` extra)."""
    target = out or default_site_dir()
    try:
        build_site(target, config=config, strict=strict)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"developer guide built in {target}")
