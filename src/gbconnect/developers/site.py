"""``/developers/``: the built developer guide as static files, or a page saying it is
not built on this server (with the command that builds it).

The folder is ``GBCONNECT_DEVELOPER_DOCS_DIR``, by default ``build/developers`` at the
root of the source tree this package was loaded from (where ``gbconnect docs build``
writes by default). It is looked for on every request, so a guide built while the
server runs is served at once, without a restart.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

from gbconnect.config import Settings

#: Where the guide is served.
MOUNT_PATH = "/developers"

#: The guide's Markdown in the source tree (it reads on GitHub as it is).
SOURCE_PATH = "docs/developers/index.md"


def source_root() -> Path:
    """The source tree's root as seen from this package (``src/gbconnect/developers``
    -> the folder holding ``mkdocs.yml``)."""
    return Path(__file__).resolve().parents[3]


def default_site_dir() -> Path:
    """Where ``gbconnect docs build`` writes and ``serve`` looks by default."""
    return source_root() / "build" / "developers"


def site_dir(settings: Settings) -> Path:
    """The folder served at ``/developers/`` (GBCONNECT_DEVELOPER_DOCS_DIR or the
    default)."""
    return settings.developer_docs_dir or default_site_dir()


def not_built_page(folder: Path) -> str:
    """The English page answered while the guide is not built."""
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Developer guide not built - gbconnect</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<main>
<h1>The developer guide is not built on this server</h1>
<p>This server serves the developer guide from <code>{escape(str(folder))}</code>,
which does not exist yet. The operator builds it with:</p>
<pre><code>pip install 'gbconnect[docs]'
gbconnect docs build</code></pre>
<p>(or sets <code>GBCONNECT_DEVELOPER_DOCS_DIR</code> to a folder built elsewhere
with <code>gbconnect docs build --out DIR</code>). No restart is needed.</p>
<p>Meanwhile the guide reads as Markdown, on GitHub or in any copy of gbconnect's
source: start at <code>{escape(SOURCE_PATH)}</code> in the repository.</p>
</main>
</body>
</html>
"""


class DeveloperSite:
    """The ASGI app mounted at ``/developers``: the static site when its folder has an
    ``index.html``, else the not-built page (404) for every path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files = StaticFiles(directory=folder, html=True, check_dir=False)

    def built(self) -> bool:
        return (self.folder / "index.html").is_file()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.built():
            page = HTMLResponse(not_built_page(self.folder), status_code=404)
            await page(scope, receive, send)
            return
        await self.files(scope, receive, send)


def mount(app: Starlette, settings: Settings) -> None:
    """Mount the guide at ``/developers`` on ``app`` (a Starlette or FastAPI app)."""
    app.mount(MOUNT_PATH, DeveloperSite(site_dir(settings)), name="developers")
