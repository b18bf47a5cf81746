"""The operator dashboard: one HTML page plus its static assets, with no build step.

Mount it on the REST application with ``app.include_router(dashboard.router)``. It serves
``/`` (the page) and ``/static/<file>`` (CSS, JavaScript modules, icons) from the ``static``
folder next to this module, and stays out of the OpenAPI schema. The page talks to the
JSON API of the same origin only: a strict Content-Security-Policy forbids anything else.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from fastapi import APIRouter, HTTPException, Request, Response, status

STATIC_DIR: Final = Path(__file__).resolve().with_name("static")
INDEX_FILE: Final = "index.html"

MEDIA_TYPES: Final[dict[str, str]] = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    # Set explicitly: browsers refuse module scripts served with a guessed text/plain.
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".json": "application/json",
}

# Same origin only, no inline script or style: data from stations can never run as code.
CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

_COMMON_HEADERS: Final[dict[str, str]] = {
    "X-Content-Type-Options": "nosniff",
    # Revalidate every time (cheap: ETag + 304) so an upgrade never mixes old and new files.
    "Cache-Control": "no-cache",
}
_PAGE_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_ASSET_NAME: Final = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class _Asset:
    content: bytes
    etag: str
    media_type: str


_cache: dict[Path, tuple[int, int, _Asset]] = {}


def _asset_path(name: str) -> Path | None:
    """The file `name` under STATIC_DIR, or None for anything else (no traversal, no dirs)."""
    if not _ASSET_NAME.fullmatch(name):
        return None
    path = (STATIC_DIR / name).resolve()
    if not path.is_relative_to(STATIC_DIR) or path.suffix not in MEDIA_TYPES:
        return None
    return path if path.is_file() else None


def _load(path: Path) -> _Asset:
    """The file's bytes, cached until its size or modification time changes."""
    stat = path.stat()
    cached = _cache.get(path)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    content = path.read_bytes()
    asset = _Asset(
        content=content,
        etag=f'"{hashlib.sha256(content).hexdigest()[:32]}"',
        media_type=MEDIA_TYPES[path.suffix],
    )
    _cache[path] = (stat.st_mtime_ns, stat.st_size, asset)
    return asset


def _respond(request: Request, asset: _Asset, extra_headers: dict[str, str]) -> Response:
    headers = {**_COMMON_HEADERS, **extra_headers, "ETag": asset.etag}
    if_none_match = request.headers.get("if-none-match", "")
    if asset.etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    body = b"" if request.method == "HEAD" else asset.content
    response = Response(content=body, media_type=asset.media_type, headers=headers)
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(asset.content))
    return response


router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
def dashboard_page(request: Request) -> Response:
    """The single-page operator dashboard (plain HTML, CSS and JavaScript modules)."""
    path = _asset_path(INDEX_FILE)
    if path is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Dashboard missing")
    return _respond(request, _load(path), _PAGE_HEADERS)


@router.api_route("/static/{name:path}", methods=["GET", "HEAD"])
def dashboard_asset(name: str, request: Request) -> Response:
    """A CSS, JavaScript or image file of the dashboard."""
    path = _asset_path(name)
    if path is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such asset")
    return _respond(request, _load(path), {})
