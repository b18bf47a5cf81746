"""The operator dashboard: one HTML page plus its static assets, with no build step.

Mount it on the REST application with ``app.include_router(dashboard.router)``. It serves
``/`` (the page) and the static folder next to this module. The page talks to the JSON API
of the same origin only: a strict Content-Security-Policy forbids anything else.

Caching and size, without a build step:

- The assets are versioned as a whole: ``/static/<version>/js/app.js`` where ``<version>``
  is a hash of every file's name and content. The page links the current version, and
  the JavaScript modules import each other by relative paths, so they all resolve inside
  that version without rewriting any file. A versioned asset never changes, so browsers
  keep it for a year (``immutable``); the page itself is revalidated on every load
  (``no-cache`` + ETag), so an upgrade is picked up at the next load and never mixes old
  and new files. ``/static/<file>`` without a version still works (revalidated each time).
- Text assets are gzip-compressed once, in memory, and sent compressed to every browser
  that accepts gzip (all of them); ``Vary: Accept-Encoding`` keeps caches honest.
"""

from __future__ import annotations

import gzip
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
# Already compressed formats gain nothing from gzip; tiny files lose (header overhead).
_COMPRESSIBLE: Final = frozenset({".html", ".css", ".js", ".svg", ".json"})
_MIN_COMPRESS_BYTES: Final = 512

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
        # Trusted Types with no policy: the browser refuses any string sent to an HTML or
        # script sink (innerHTML, eval ...), so API data can only ever become text.
        "require-trusted-types-for 'script'",
        "trusted-types 'none'",
    ]
)
IMMUTABLE: Final = "public, max-age=31536000, immutable"
REVALIDATE: Final = "no-cache"

_COMMON_HEADERS: Final[dict[str, str]] = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_PAGE_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}
_ASSET_NAME: Final = re.compile(r"[A-Za-z0-9_\-]+(?:/[A-Za-z0-9_\-]+)*\.[a-z0-9]+")
VERSION_LENGTH: Final = 12
_VERSION: Final = re.compile(rf"[0-9a-f]{{{VERSION_LENGTH}}}")
# Links of the page to its own assets: src="/static/..." and href="/static/...".
_PAGE_LINK: Final = re.compile(r"""(\b(?:src|href)=")/static/""")


@dataclass(frozen=True, slots=True)
class _Asset:
    content: bytes
    gzipped: bytes | None
    etag: str
    media_type: str


@dataclass(frozen=True, slots=True)
class _Bundle:
    """Every file of the static folder, its version and the page that links that version."""

    fingerprint: tuple[tuple[str, int, int], ...]
    version: str
    assets: dict[str, _Asset]
    page: _Asset


def _asset(content: bytes, suffix: str) -> _Asset:
    compress = suffix in _COMPRESSIBLE and len(content) >= _MIN_COMPRESS_BYTES
    return _Asset(
        content=content,
        # mtime=0: the same bytes give the same compressed bytes (stable ETags).
        gzipped=gzip.compress(content, compresslevel=9, mtime=0) if compress else None,
        etag=hashlib.sha256(content).hexdigest()[:32],
        media_type=MEDIA_TYPES[suffix],
    )


def _files() -> list[Path]:
    return sorted(
        path
        for path in STATIC_DIR.rglob("*")
        if path.is_file()
        and path.suffix in MEDIA_TYPES
        and _ASSET_NAME.fullmatch(path.relative_to(STATIC_DIR).as_posix())
    )


def _fingerprint(files: list[Path]) -> tuple[tuple[str, int, int], ...]:
    result = []
    for path in files:
        stat = path.stat()
        result.append((path.relative_to(STATIC_DIR).as_posix(), stat.st_mtime_ns, stat.st_size))
    return tuple(result)


def _build(files: list[Path], fingerprint: tuple[tuple[str, int, int], ...]) -> _Bundle:
    digest = hashlib.sha256()
    contents: dict[str, bytes] = {}
    for path in files:
        name = path.relative_to(STATIC_DIR).as_posix()
        contents[name] = path.read_bytes()
        digest.update(name.encode() + b"\0" + hashlib.sha256(contents[name]).digest())
    version = digest.hexdigest()[:VERSION_LENGTH]
    assets = {name: _asset(content, Path(name).suffix) for name, content in contents.items()}
    index = contents.get(INDEX_FILE, b"").decode("utf-8")
    page = _asset(_PAGE_LINK.sub(rf"\g<1>/static/{version}/", index).encode("utf-8"), ".html")
    return _Bundle(fingerprint=fingerprint, version=version, assets=assets, page=page)


_bundle: _Bundle | None = None


def _current() -> _Bundle:
    """The bundle of the files as they are now, rebuilt only when one changed."""
    global _bundle
    files = _files()
    fingerprint = _fingerprint(files)
    if _bundle is None or _bundle.fingerprint != fingerprint:
        _bundle = _build(files, fingerprint)
    return _bundle


def asset_version() -> str:
    """The version in the URLs of the current assets (a hash of all of them)."""
    return _current().version


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in {"gzip", "*"}:
            return params.replace(" ", "").lower() not in {"q=0", "q=0.0", "q=0.00", "q=0.000"}
    return False


def _respond(
    request: Request, asset: _Asset, cache_control: str, extra_headers: dict[str, str]
) -> Response:
    compressed = asset.gzipped is not None and _accepts_gzip(request)
    body = asset.gzipped if compressed and asset.gzipped is not None else asset.content
    etag = f'"{asset.etag}{"-gz" if compressed else ""}"'
    headers = {**_COMMON_HEADERS, **extra_headers, "Cache-Control": cache_control, "ETag": etag}
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if compressed:
        headers["Content-Encoding"] = "gzip"
    if_none_match = request.headers.get("if-none-match", "")
    if etag in (tag.strip() for tag in if_none_match.split(",")):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    response = Response(
        content=b"" if request.method == "HEAD" else body,
        media_type=asset.media_type,
        headers=headers,
    )
    if request.method == "HEAD":
        response.headers["Content-Length"] = str(len(body))
    return response


router = APIRouter(tags=["dashboard"])


@router.api_route("/", methods=["GET", "HEAD"], include_in_schema=False)
def dashboard_page(request: Request) -> Response:
    """The single-page operator dashboard (plain HTML, CSS and JavaScript modules)."""
    bundle = _current()
    if INDEX_FILE not in bundle.assets:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Dashboard missing")
    return _respond(request, bundle.page, REVALIDATE, _PAGE_HEADERS)


@router.api_route("/static/{name:path}", methods=["GET", "HEAD"], include_in_schema=False)
def dashboard_asset(name: str, request: Request) -> Response:
    """A CSS, JavaScript or image file: versioned (cached for a year) or plain."""
    bundle = _current()
    version, _, rest = name.partition("/")
    if _VERSION.fullmatch(version):
        if version != bundle.version:
            # An old version's file no longer exists; serving today's file under the old
            # URL would cache the wrong content for a year.
            raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Old asset version")
        name, cache_control = rest, IMMUTABLE
    else:
        cache_control = REVALIDATE
    asset = bundle.assets.get(name) if _ASSET_NAME.fullmatch(name) else None
    if asset is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="No such asset")
    return _respond(request, asset, cache_control, {})
