"""The developer guide (``docs/developers/``): built with MkDocs by ``gbconnect docs
build`` and served by ``gbconnect serve`` at ``/developers/``.

The server never imports MkDocs: :func:`~gbconnect.developers.build.build_site` runs it
in a subprocess, and :func:`~gbconnect.developers.site.mount` serves the folder it
wrote, or an honest page saying the guide is not built here.
"""

from gbconnect.developers.build import BuildError, build_site
from gbconnect.developers.site import MOUNT_PATH, default_site_dir, mount, site_dir

__all__ = ["MOUNT_PATH", "BuildError", "build_site", "default_site_dir", "mount", "site_dir"]
