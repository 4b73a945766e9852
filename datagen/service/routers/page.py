"""``/``: the page — plain HTML, a little JavaScript and a stylesheet (``datagen/service/page/``),
no build step, no framework, nothing from elsewhere. It calls only the ``/api/v1`` endpoints.

The files themselves need no API key (they hold no data); the page asks for the key when the
service answers 401 and sends it in ``X-API-Key`` (``?api_key=`` for the WebSocket). A strict
Content-Security-Policy allows scripts, styles and connections to this origin only.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from datagen.service.errors import NotFound

router = APIRouter(include_in_schema=False)

#: the files of the page (name → media type); anything else is 404
FILES = {"index.html": "text/html; charset=utf-8", "app.js": "text/javascript; charset=utf-8",
         "style.css": "text/css; charset=utf-8"}
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str) -> Response:
    if name not in FILES:
        raise NotFound(f"no file {name!r} of the page")
    data = resources.files("datagen.service").joinpath("page", name).read_bytes()
    return Response(data, media_type=FILES[name], headers=HEADERS)


@router.get("/")
def index() -> Response:
    """The page (its views are hash routes: ``#/runs/ID``, ``#/streams``, ``#/streams/ID``)."""
    return _file("index.html")


@router.get("/page/{name}")
def asset(name: str) -> Response:
    """The page's script and stylesheet."""
    return _file(name)
