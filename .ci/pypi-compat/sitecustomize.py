"""This project's CI machines only: ../shared/pypi-compat, plus an HTML fallback.

The shared shim makes Poetry fall back to the index's simple pages, asked
for as JSON (PEP 691). Where the index answers those with HTML only (PEP
503), Poetry fails with a JSONDecodeError; this reads the HTML page instead,
as Poetry does for any non-PyPI index. `.ci/run` puts this folder on
PYTHONPATH; with DJANGO_DRF_DOCKER_HOST_NETWORK=1 (also set by `.ci/run`)
the Docker tests append this file to the sandbox's Python images'
sitecustomize (its names differ from the shared shim's, so both apply).
"""

import importlib.abc
import importlib.util
import runpy
import sys
from pathlib import Path

_parents = Path(__file__).resolve().parents
_shared = _parents[3] / "shared" / "pypi-compat" / "sitecustomize.py" if len(_parents) > 3 else None
if _shared is not None and _shared.is_file():
    runpy.run_path(str(_shared), run_name="shared_pypi_compat")

_HTML_FALLBACK = "poetry.repositories.pypi_repository"


def _html_fallback_patch(module):
    from poetry.repositories.link_sources.html import HTMLPage

    repo = module.PyPiRepository
    get_page = repo._get_page

    def _get_page(self, name):
        try:
            return get_page(self, name)
        except ValueError:  # json.JSONDecodeError: the page came as HTML
            url = self._base_url + f"simple/{name}/"
            return HTMLPage(url, self.session.get(url, timeout=60).text)

    repo._get_page = _get_page


class _HtmlFallbackFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _HTML_FALLBACK:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def patched_exec(mod):
            exec_module(mod)
            _html_fallback_patch(mod)

        spec.loader.exec_module = patched_exec
        return spec


sys.meta_path.insert(0, _HtmlFallbackFinder())
