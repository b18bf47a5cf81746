"""The operator dashboard as a browser loads it: one page, its own assets, nothing external."""

from __future__ import annotations

import json
import posixpath
import re
from html.parser import HTMLParser

import httpx
import pytest

from ev_charging_system.api.dashboard import IMMUTABLE, STATIC_DIR, asset_version

CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}
# XML namespace names are identifiers that look like URLs; browsers never fetch them.
NAMESPACES = ("http://www.w3.org/2000/svg", "http://www.w3.org/1999/xhtml")
ABSOLUTE_URL = re.compile(r"\b(?:https?|wss?|ftp):/{2}[^\s\"'`)<>]*", re.IGNORECASE)
PROTOCOL_RELATIVE = re.compile(
    r"""(?:(?:src|href|action|srcset)\s*=\s*["']?|url\(\s*["']?|from\s*["']|import\s*\(?\s*["']"""
    r"""|fetch\(\s*["'`])\s*/{2}""",
    re.IGNORECASE,
)
JS_IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;]*?\bfrom\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']"""
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)""",
    re.MULTILINE,
)
CSS_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")
# The modules behind the remote-operation, diagnosis, energy and reports views.
FEATURE_MODULES = {
    "js/views/remote.js",
    "js/views/station-insight.js",
    "js/views/energy.js",
    "js/views/energy-settings.js",
    "js/views/reports.js",
    "js/energy-chart.js",
    "js/views/assistant.js",
    "js/live.js",
    "js/stations.js",
    "js/i18n.js",
    "js/locales/pt-BR.js",
}
# Endpoints the dashboard already calls that the server does not have yet (the lead builds
# them): the UI degrades cleanly without them. Remove an entry once its route exists.
PENDING_BACKEND: set[str] = set()  # paths the scripts call before the API serves them
# API paths in the scripts: string and template literals starting with /api/ or /energy/;
# `${...}` parts stand for path parameters, `${base}` for one station's base path.
API_LITERAL = re.compile(r"""["'`]((?:/api/|/energy/|\$\{(?:ctx\.)?base\}/)[^"'`\s?]*)["'`]""")
# send(ctx, slot, submit, <what: any expression>, "<command-name>", ...)
COMMAND_CALL = re.compile(r'\bsend\(ctx, \w+, \w+, [^\n]*?, "([a-z]+(?:-[a-z]+)*)"')


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value and value.startswith("/static/"):
                self.links.append(value)


def _static(fetched: dict[str, httpx.Response], name: str) -> httpx.Response:
    """The response for a static file (js/app.js, ...) under the current asset version."""
    return fetched[f"/static/{asset_version()}/{name}"]


def _media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0].strip()


async def _crawl(rest: httpx.AsyncClient) -> dict[str, httpx.Response]:
    """The page and everything it loads: <script>/<link>/<img>, JS imports, CSS url()."""
    page = await rest.get("/")
    parser = _AssetLinks()
    parser.feed(page.text)
    fetched: dict[str, httpx.Response] = {"/": page}
    queue = list(parser.links)
    while queue:
        path = queue.pop()
        if path in fetched:
            continue
        response = await rest.get(path)
        fetched[path] = response
        if response.status_code != 200:
            continue
        base = posixpath.dirname(path)
        if path.endswith(".js"):
            targets = [a or b or c for a, b, c in JS_IMPORT.findall(response.text)]
        elif path.endswith(".css"):
            targets = [t for t in CSS_URL.findall(response.text) if not t.startswith("data:")]
        else:
            targets = []
        for target in targets:
            queue.append(
                target if target.startswith("/") else posixpath.normpath(f"{base}/{target}")
            )
    return fetched


async def test_the_dashboard_page_is_served_at_the_root(rest: httpx.AsyncClient) -> None:
    response = await rest.get("/")
    assert response.status_code == 200
    assert _media_type(response) == "text/html"
    version = asset_version()
    assert f'<script type="module" src="/static/{version}/js/app.js">' in response.text
    assert f'href="/static/{version}/css/dashboard.css"' in response.text
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_every_asset_the_page_loads_is_served_with_its_content_type(
    rest: httpx.AsyncClient,
) -> None:
    fetched = await _crawl(rest)
    version = asset_version()
    for name in ("js/app.js", "css/dashboard.css", "favicon.svg", "js/views/overview.js"):
        assert f"/static/{version}/{name}" in fetched, name
    for path, response in fetched.items():
        assert response.status_code == 200, path
        extension = ".html" if path == "/" else posixpath.splitext(path)[1]
        assert _media_type(response) == CONTENT_TYPES[extension], path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "no-referrer", path
        if path != "/":
            # Versioned: never changes, so browsers keep it for a year without asking.
            assert response.headers["cache-control"] == IMMUTABLE, path


async def test_every_file_in_the_static_folder_is_served(rest: httpx.AsyncClient) -> None:
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.is_file())
    assert files
    for file in files:
        response = await rest.get(f"/static/{file.relative_to(STATIC_DIR).as_posix()}")
        assert response.status_code == 200, file
        assert response.content == file.read_bytes(), file
        assert _media_type(response) == CONTENT_TYPES[file.suffix], file


async def test_nothing_references_an_external_url(rest: httpx.AsyncClient) -> None:
    fetched = await _crawl(rest)
    for path, response in fetched.items():
        text = response.text
        for namespace in NAMESPACES:
            text = text.replace(namespace, "")
        assert ABSOLUTE_URL.findall(text) == [], path
        assert PROTOCOL_RELATIVE.findall(text) == [], path


@pytest.mark.parametrize(
    "path",
    [
        "/static/nope.js",
        "/static/js",
        "/static/js/",
        "/static/%2e%2e/dashboard.py",
        "/static/js/%2e%2e/%2e%2e/dashboard.py",
        "/static/..%2fdashboard.py",
        "/static/js/app.js.map",
        "/static/.hidden.js",
    ],
)
async def test_anything_outside_the_assets_is_not_found(rest: httpx.AsyncClient, path: str) -> None:
    response = await rest.get(path)
    assert response.status_code == 404
    assert "detail" in response.json()


async def test_unversioned_assets_revalidate_with_etags(rest: httpx.AsyncClient) -> None:
    first = await rest.get("/static/js/app.js")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    again = await rest.get("/static/js/app.js", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    plain = {"Accept-Encoding": "identity"}
    head = await rest.head("/", headers=plain)
    assert head.status_code == 200
    assert head.content == b""
    assert int(head.headers["content-length"]) == len((await rest.get("/", headers=plain)).content)


async def test_text_assets_are_sent_gzip_compressed(rest: httpx.AsyncClient) -> None:
    version = asset_version()
    for name in ("js/app.js", "css/dashboard.css", "js/locales/pt-BR.js"):
        compressed = await rest.get(
            f"/static/{version}/{name}", headers={"Accept-Encoding": "gzip"}
        )
        assert compressed.headers["content-encoding"] == "gzip", name
        assert "accept-encoding" in compressed.headers["vary"].lower(), name
        # httpx decodes: what arrives is the file itself, in fewer bytes on the wire.
        assert compressed.content == (STATIC_DIR / name).read_bytes(), name
        assert compressed.num_bytes_downloaded < len(compressed.content) / 2, name
        plain = await rest.get(f"/static/{version}/{name}", headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in plain.headers, name
        assert plain.content == (STATIC_DIR / name).read_bytes(), name
        assert plain.headers["etag"] != compressed.headers["etag"], name
    refused = await rest.get(
        f"/static/{version}/js/app.js", headers={"Accept-Encoding": "gzip;q=0"}
    )
    assert "content-encoding" not in refused.headers


async def test_an_old_asset_version_is_not_found_rather_than_served_as_new(
    rest: httpx.AsyncClient,
) -> None:
    version = asset_version()
    assert (await rest.get(f"/static/{version}/js/app.js")).status_code == 200
    stale = "0" * len(version) if version != "0" * len(version) else "1" * len(version)
    response = await rest.get(f"/static/{stale}/js/app.js")
    assert response.status_code == 404
    assert (await rest.get(f"/static/{version}/js/../../dashboard.py")).status_code == 404


async def test_the_token_check_tells_a_good_token_from_a_bad_one(
    rest: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    me = (await rest.get("/api/me")).json()
    assert me == {"name": "rest:api-token", "role": "admin", "channel": "rest"}
    wrong = await anonymous.get("/api/me", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert (await anonymous.get("/api/me")).status_code == 401


async def test_the_dashboard_stays_out_of_the_api_schema_and_the_api_still_answers(
    rest: httpx.AsyncClient,
) -> None:
    paths = (await rest.get("/openapi.json")).json()["paths"]
    assert "/" not in paths
    assert not any(path.startswith("/static") for path in paths)
    assert (await rest.get("/api/health")).status_code == 200
    assert (await rest.get("/api/charge-points")).json()["items"] == []


async def test_the_new_views_are_loaded_with_their_content_type(rest: httpx.AsyncClient) -> None:
    fetched = await _crawl(rest)
    for name in FEATURE_MODULES:
        response = _static(fetched, name)
        assert response.status_code == 200, name
        assert _media_type(response) == "text/javascript", name
        assert response.headers["x-content-type-options"] == "nosniff", name
    page = fetched["/"].text
    for route in ("#/energy", "#/reports"):
        assert f'href="{route}"' in page
    app_js = _static(fetched, "js/app.js").text
    # The energy view is loaded on first use (first-load budget), as a module of its own.
    assert 'import("./views/energy.js")' in app_js
    assert "reports: reportsView" in app_js


async def test_no_static_file_references_an_external_url(rest: httpx.AsyncClient) -> None:
    """Also the files no page loads yet: the whole folder stays self-contained."""
    files = sorted(p for p in STATIC_DIR.rglob("*") if p.suffix in {".js", ".css", ".html", ".svg"})
    for file in files:
        text = file.read_text(encoding="utf-8")
        for namespace in NAMESPACES:
            text = text.replace(namespace, "")
        assert ABSOLUTE_URL.findall(text) == [], file.name
        assert PROTOCOL_RELATIVE.findall(text) == [], file.name
        assert re.findall(r"\.innerHTML|\.outerHTML|insertAdjacentHTML", text) == [], file.name


def _route_pattern(path: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(path)) + "$")


async def test_every_api_path_the_scripts_call_exists(rest: httpx.AsyncClient) -> None:
    """The dashboard and the REST API agree: no view calls an endpoint that is not there."""
    schema_paths = list((await rest.get("/openapi.json")).json()["paths"])
    routes = [_route_pattern(path) for path in schema_paths]
    called: set[str] = set()
    for script in STATIC_DIR.rglob("*.js"):
        text = script.read_text(encoding="utf-8")
        for literal in API_LITERAL.findall(text):
            if literal.endswith("/commands/${name}"):
                continue  # the command dispatcher: its names are checked through COMMAND_CALL
            path = re.sub(r"^\$\{(?:ctx\.)?base\}", "/api/charge-points/${id}", literal)
            called.add(re.sub(r"\$\{[^}]+\}", "x", path))
        for command in COMMAND_CALL.findall(text):
            called.add(f"/api/charge-points/x/commands/{command}")
    expected = {
        "/energy/status",
        "/energy/plan",
        "/energy/plans",
        "/energy/policy",
        "/energy/tick",
        "/energy/config",
        "/energy/tariff",
        "/api/reports/usage",
        "/api/audit",
        "/api/charge-points/x/diagnosis",
        "/api/charge-points/x/device-model",
        "/api/charge-points/x/commands",
        "/api/charge-points/x/commands/remote-start",
        "/api/charge-points/x/commands/remote-stop",
        "/api/charge-points/x/commands/reset",
        "/api/charge-points/x/commands/unlock-connector",
        "/api/charge-points/x/commands/change-availability",
        "/api/charge-points/x/commands/get-configuration",
        "/api/charge-points/x/commands/set-configuration",
        "/api/charge-points/x/commands/trigger-message",
        "/api/charge-points/x/commands/clear-cache",
        "/api/charge-points/x/commands/set-charging-profile",
        "/api/charge-points/x/commands/get-composite-schedule",
        "/api/chat",
        "/api/chat/stream",
        "/api/chat/x",
        "/api/chat/x/confirm",
        "/api/me",
        "/api/events",
    }
    assert expected <= called, sorted(expected - called)
    unknown = sorted(path for path in called if not any(r.match(path) for r in routes))
    assert unknown == sorted(PENDING_BACKEND - set(schema_paths))


async def test_the_energy_page_reads_what_the_api_serves(rest: httpx.AsyncClient) -> None:
    """The shapes the Energy view renders: status, plan schedule, policy, config, tariff."""
    status = (await rest.get("/energy/status")).json()
    assert {"solar", "battery", "vehicles", "load", "policy", "last_plan"} <= set(status)
    plan = (await rest.get("/energy/plan")).json()
    step = plan["steps"][0]
    assert {
        "start",
        "pv_kw",
        "critical_load_kw",
        "flexible_load_kw",
        "shed_kw",
        "battery_kw",
        "battery_soc_kwh",
        "vehicle_kw",
        "grid_kw",
        "import_price",
    } <= set(step)
    assert {"vehicles", "battery"} <= set(plan["snapshot"])
    policy = (await rest.get("/energy/policy")).json()
    assert policy["policy"] in policy["available"]
    config = (await rest.get("/energy/config")).json()
    sections = {"solar", "battery", "grid", "load", "vehicles", "timezone", "horizon_hours"}
    assert set(config) >= sections
    assert (await rest.get("/energy/tariff")).json()["kind"] in {"flat", "time_of_use", "dynamic"}


async def test_config_errors_name_the_field_the_editor_marks(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    """energy-settings.js maps `loc` + `ctx.error.quantity` to a field: keep both coming."""
    config = (await rest.get("/energy/config")).json()
    config["battery"] |= {"min_soc": 0.9, "max_soc": 0.5}
    response = await rest.put("/energy/config", json=config, headers=operator)
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body", "battery"]
    assert problem["ctx"]["error"]["quantity"] == "battery.min_soc"
    assert (await rest.get("/energy/config")).json()["battery"]["min_soc"] != 0.9


async def test_command_errors_carry_what_the_remote_panel_shows(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    """An offline station: 409 with a `detail` (the panel's "Station offline" box)."""
    created = await rest.post("/api/charge-points", json={"id": "CP-DASH"}, headers=operator)
    assert created.status_code == 201
    response = await rest.post("/api/charge-points/CP-DASH/commands/clear-cache", headers=operator)
    assert response.status_code == 409
    assert response.json()["detail"]
    log = await rest.get("/api/charge-points/CP-DASH/commands")
    assert log.status_code == 200
    for record in log.json()["items"]:
        assert {"action", "requested_by", "requested_at", "outcome", "status", "response"} <= set(
            record
        )


async def test_the_assistant_page_is_wired_in_and_self_contained(rest: httpx.AsyncClient) -> None:
    """The chat view: loaded as a module, linked from the nav, safe text only, same origin."""
    fetched = await _crawl(rest)
    view = _static(fetched, "js/views/assistant.js")
    assert view.status_code == 200
    assert _media_type(view) == "text/javascript"
    assert view.headers["x-content-type-options"] == "nosniff"
    assert 'href="#/assistant"' in fetched["/"].text
    assert "assistant: assistantView" in _static(fetched, "js/app.js").text
    for asset in ("js/views/assistant.js", "js/api.js"):
        text = _static(fetched, asset).text
        assert ABSOLUTE_URL.findall(text) == [], asset
        assert re.findall(r"\.innerHTML|\.outerHTML|insertAdjacentHTML|new EventSource", text) == []
    api_js = _static(fetched, "js/api.js").text
    # The stream is POSTed with the token (EventSource can do neither) and read as it arrives.
    assert "export async function apiStream" in api_js and "getReader()" in api_js
    assert 'apiStream("/api/chat/stream"' in view.text
    assert "/confirm`, { confirm: yes }" in view.text


async def test_without_a_key_the_chat_answers_what_the_assistant_page_explains(
    rest: httpx.AsyncClient, anonymous: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    """401 without the token (the page asks for it), 503 naming ANTHROPIC_API_KEY with it."""
    assert (await anonymous.get("/api/chat")).status_code == 401
    for method, path, body in [
        ("GET", "/api/chat", None),
        ("POST", "/api/chat/stream", {"message": "hi"}),
        ("POST", "/api/chat/some-id/confirm", {"confirm": True}),
    ]:
        response = await rest.request(method, path, json=body, headers=operator)
        assert response.status_code == 503, path
        assert "ANTHROPIC_API_KEY" in response.json()["detail"], path


# --- languages ---------------------------------------------------------------------------

_STRING = r'"((?:[^"\\]|\\.)*)"'
T_CALL = re.compile(r"(?<![\w.$])t\(\s*" + _STRING)
TN_CALL = re.compile(
    r"(?<![\w.$])tn\(\s*[^,()]+(?:\([^()]*\))?[^,()]*,\s*" + _STRING + r"\s*,\s*" + _STRING
)
HTML_TEXT = re.compile(r'data-i18n(?:-label)?="([^"]+)"')
CATALOGUE = STATIC_DIR / "js" / "locales" / "pt-BR.js"


def _texts() -> set[str]:
    """Every text the dashboard shows: t("..."), tn(n, "...", "..."), data-i18n="..."."""
    found: set[str] = set()
    for script in STATIC_DIR.rglob("*.js"):
        if "locales" in script.parts or script.name == "i18n.js":
            continue  # the catalogue itself, and the definitions of t() and tn()
        source = script.read_text(encoding="utf-8")
        found |= {json.loads(f'"{m}"') for m in T_CALL.findall(source)}
        calls = TN_CALL.findall(source)
        # Every tn( call must be one the pattern reads, or its texts would go unchecked.
        assert len(calls) == len(re.findall(r"(?<![\w.$])tn\(\s*[^)\s]", source)), script.name
        found |= {json.loads(f'"{m}"') for pair in calls for m in pair}
    found |= set(HTML_TEXT.findall((STATIC_DIR / "index.html").read_text(encoding="utf-8")))
    return found


def _catalogue() -> dict[str, str]:
    source = CATALOGUE.read_text(encoding="utf-8")
    body = source[source.index("export default ") + len("export default ") :].rstrip().rstrip(";")
    messages: dict[str, str] = json.loads(body)
    return messages


def test_every_text_has_a_portuguese_translation_and_none_is_stale() -> None:
    texts = _texts()
    messages = _catalogue()
    assert len(texts) > 500
    assert sorted(texts - set(messages)) == []
    assert sorted(set(messages) - texts) == []
    placeholder = re.compile(r"\{\w+\}")
    for english, portuguese in messages.items():
        assert portuguese.strip(), english
        assert set(placeholder.findall(english)) == set(placeholder.findall(portuguese)), english


def test_texts_are_never_built_from_english_fragments() -> None:
    """A translatable text is a whole sentence: no leading/trailing spaces to glue parts."""
    for text in _texts():
        assert text == text.strip(), repr(text)
