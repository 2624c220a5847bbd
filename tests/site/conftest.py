"""Fixtures for the compass-site tests: a built site, and real headless Chromium over DevTools.

The DevTools client is a small stdlib WebSocket client (no extra dependency). Browser tests skip
with a clear reason when no Chromium binary is found (CI's .ci/run installs Debian's `chromium`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "site"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)


@pytest.fixture(scope="session")
def built_site(refreshed, tmp_path_factory) -> Path:
    """The lead's small published edition, copied, with its site built (the copy's edition dir)."""
    from basismonitor.site import build_site

    source = refreshed.exports / str(refreshed.edition)
    edition_dir = tmp_path_factory.mktemp("site") / str(refreshed.edition)
    shutil.copytree(source, edition_dir)
    build_site(edition_dir, progress=lambda _: None)
    return edition_dir


def chromium_binary() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit and Path(explicit).exists():
        return explicit
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


# --- a minimal WebSocket client (RFC 6455, text frames, client masking) ------------------------


class WebSocket:
    def __init__(self, url: str, timeout: float = 60.0):
        parsed = urlparse(url)
        self.sock = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {parsed.path} HTTP/1.1\r\nHost: {parsed.hostname}:{parsed.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        self.buf = bytearray()
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("DevTools closed the connection during the handshake")
            self.buf += chunk
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(f"WebSocket handshake failed: {head[:200]!r}")
        self.buf = bytearray(rest)

    def send(self, text: str) -> None:
        payload = text.encode()
        header = bytearray([0x81])
        n = len(payload)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes(header) + mask + masked)

    def _read(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("DevTools closed the connection")
            self.buf += chunk
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def recv(self) -> str:
        message = bytearray()
        while True:
            b1, b2 = self._read(2)
            opcode, n = b1 & 0x0F, b2 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b2 & 0x80 else None
            data = self._read(n)
            if mask:
                data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
            if opcode == 0x8:
                raise ConnectionError("DevTools closed the WebSocket")
            if opcode in (0x9, 0xA):  # ping/pong: not expected from DevTools
                continue
            message += data
            if b1 & 0x80:
                return message.decode("utf-8")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


# --- Chromium over the DevTools protocol -------------------------------------------------------


@dataclass
class PageResult:
    url: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    screenshot: Path | None = None


class Chromium:
    """One headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, binary: str, profile: Path, *, width: int = 1280, height: int = 900):
        self.profile = profile
        self.process = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"chromium exited: {self.process.stderr.read().decode()[-2000:]}"
                )
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port within 30 s")
            time.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
            targets = json.load(response)
        page = next(t for t in targets if t.get("type") == "page")
        self.ws = WebSocket(page["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call("Emulation.setFocusEmulationEnabled", enabled=True)  # focus events when headless

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        ident = self.next_id
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict:
        for i, message in enumerate(self.events):
            if message["method"] == event:
                return self.events.pop(i)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            if message.get("method") == event:
                return message
            if "method" in message:
                self.events.append(message)
        raise TimeoutError(f"no {event} within {timeout} s")

    def evaluate(self, expression: str):
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> PageResult:
        self.events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)))")
        return self.collect(url)

    def collect(self, url: str) -> PageResult:
        result = PageResult(url)
        for message in self.events:
            method, params = message["method"], message.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                text = details.get("exception", {}).get("description") or details.get("text")
                result.console_errors.append(f"exception: {text}")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                args = " ".join(
                    str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
                )
                result.console_errors.append(f"console.{params['type']}: {args}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                result.console_errors.append(f"log: {entry.get('text')} {entry.get('url', '')}")
            elif method == "Network.requestWillBeSent":
                result.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                result.console_errors.append(f"failed to load: {params.get('errorText')}")
        return result

    def screenshot(self, path: Path, *, full_page: bool = True) -> Path:
        params: dict = {"format": "png"}
        if full_page:
            size = self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": size[0], "height": min(size[1], 12000), "scale": 1},
            )
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, ConnectionError):
            self.call("Browser.close")
        self.ws.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def chromium(tmp_path_factory):
    binary = chromium_binary()
    if binary is None:
        pytest.skip(
            "no Chromium binary found (install Debian's `chromium` or set CHROMIUM=/path): "
            "browser tests of the compass site skipped"
        )
    browser = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# --- a tiny published edition, made here (fast; independent of the refresh) -------------------

TINY_AREAS = {
    # code: (name, parent, geometry)
    "WK000100": (
        "Noord",
        "SD000101",
        "POLYGON ((100000 500000, 101000 500000, 101000 501000, 100000 501000, 100000 500000))",
    ),
    "WK000101": (
        "Oost",
        "SD000101",
        "MULTIPOLYGON (((101000 500000, 102000 500000, 102000 500600, 101000 500600, "
        "101000 500000)), ((101000 500700, 102000 500700, 102000 501000, 101000 501000, "
        "101000 500700)))",
    ),
    "WK000102": (
        "Zuid-Oost Één",
        "SD000102",
        "POLYGON ((100000 499000, 102000 499000, 102000 500000, 100000 500000, 100000 499000),"
        " (100800 499400, 101200 499400, 101200 499600, 100800 499600, 100800 499400))",
    ),
    "WK000103": (
        "West",
        "SD000102",
        "POLYGON ((99000 499000, 100000 499000, 100000 501000, 99000 501000, 99000 499000))",
    ),
}
TINY_INDICATORS = [
    # code, label, source_kind, kind, unit, polarity, theme, theme label, quadrant, quadrant label
    (
        "inwoners",
        "Inwoners",
        "registry",
        "registry_count",
        "aantal",
        0,
        "bevolking",
        "Bevolking",
        "samenstelling",
        "Samenstelling",
    ),
    (
        "aandeel_65",
        "Aandeel 65 jaar en ouder",
        "registry",
        "registry_share",
        "aandeel",
        0,
        "bevolking",
        "Bevolking",
        "samenstelling",
        "Samenstelling",
    ),
    (
        "tevreden",
        "Tevreden met woning",
        "survey",
        "survey_share",
        "aandeel",
        1,
        "wonen",
        "Wonen",
        "fysiek",
        "Fysieke omgeving",
    ),
    (
        "cijfer",
        "Rapportcijfer woning",
        "survey",
        "survey_mean",
        "rapportcijfer",
        1,
        "wonen",
        "Wonen",
        "fysiek",
        "Fysieke omgeving",
    ),
    (
        "onveilig",
        "Voelt zich onveilig",
        "survey",
        "survey_share",
        "aandeel",
        -1,
        "veiligheid",
        "Veiligheid",
        "leefbaarheid",
        "Leefbaarheid en veiligheid",
    ),
    (
        "misdrijven",
        "Misdrijven per 1.000 inwoners",
        "registry",
        "registry_rate",
        "per 1.000 inwoners",
        -1,
        "criminaliteit",
        "Criminaliteit",
        "leefbaarheid",
        "Leefbaarheid en veiligheid",
    ),
    (
        "cohesie",
        "Sociale samenhang",
        "survey",
        "survey_scale",
        "schaal 1-5",
        1,
        "samenhang",
        "Sociale samenhang",
        "sociaal",
        "Sociale omgeving",
    ),
    (
        "ongebruikt",
        "Niet in het kompas",
        "registry",
        "registry_count",
        "aantal",
        0,
        "bevolking",
        "Bevolking",
        "samenstelling",
        "Samenstelling",
    ),
]
# values the marts suppress but (faultily) still carry: they must never reach the site
LEAKS = {
    "status_value": 0.4242424,  # WK000101 tevreden, suppressed, would read '42,4%'
    "status_index": 151.3,
    "crosscheck_value": 3.456789,  # WK000102 cohesie: mart not suppressed, its fact is
    "development_change": -5.555555,  # WK000100 misdrijven, suppressed development
}


def make_edition(root: Path, *, edition: int = 2024, with_development: bool = True) -> Path:
    """Write a small published edition (Parquet + manifest) the way `publish` lays it out."""
    import pandas as pd

    root.mkdir(parents=True, exist_ok=True)
    gm = "GM0001"
    def area(code, name, level, parent, *, edition=2019, valid_to=9999, current=True,
             compass=False, wkt=None):
        return dict(
            area_edition=edition,
            area_code=code,
            area_name=name,
            area_level=level,
            parent_code=parent,
            valid_from=edition,
            valid_to=valid_to,
            is_current_edition=current,
            is_compass_area=compass,
            geometry_wkt=wkt,
            crs="EPSG:28992",
        )

    areas = [
        area("WK000099", "Oude wijk", "wijk", "SD000101", edition=2008, valid_to=2018,
             current=False, compass=True, wkt=TINY_AREAS["WK000100"][2]),
        area(gm, "Teststad", "gemeente", None),
    ]
    for code, name in (("SD000101", "Stadsdeel Noord"), ("SD000102", "Stadsdeel Zuid")):
        areas.append(area(code, name, "stadsdeel", gm))
    for code, (name, parent, wkt) in TINY_AREAS.items():
        areas.append(area(code, name, "wijk", parent, compass=True, wkt=wkt))
    indicators = [
        dict(
            indicator_code=c,
            label_nl=label,
            definition=f"Definitie van {label}",
            source="demo",
            source_kind=sk,
            kind=kind,
            unit=unit,
            polarity=pol,
            theme_code=t,
            theme_label_nl=tl,
            quadrant_code=q,
            quadrant_label_nl=ql,
            is_judged=q != "samenstelling",
            min_n=50,
            min_count=5.0,
            min_population=100.0,
            first_year=None,
            last_year=None,
            theme_weight=1.0,
        )
        for c, label, sk, kind, unit, pol, t, tl, q, ql in TINY_INDICATORS
    ]
    used = [i for i in indicators if i["indicator_code"] != "ongebruikt"]
    classes = ["veel slechter", "slechter", "gemiddeld", "beter", "veel beter"]
    status, development, facts, profile = [], [], [], []
    base_values = {
        "inwoners": 5000.0,
        "aandeel_65": 0.18,
        "tevreden": 0.71,
        "cijfer": 7.3,
        "onveilig": 0.22,
        "misdrijven": 33.0,
        "cohesie": 3.2,
    }
    for a, code in enumerate(TINY_AREAS):
        common = dict(edition=edition, area_edition=2019, gemeente_code=gm, area_code=code)
        themes: dict[str, list[float]] = {}
        for k, ind in enumerate(used):
            c, judged = ind["indicator_code"], ind["is_judged"]
            index = 62.0 + 11.0 * ((a * 3 + k * 5) % 9)  # 62 .. 150, never 151.3
            klass = (
                classes[min(4, int((index - 40) / 24))]
                if judged
                else ("minder" if index < 95 else "meer" if index > 105 else "gemiddeld")
            )
            value = base_values[c] * (0.8 + 0.1 * ((a + k) % 4))
            survey = ind["source_kind"] == "survey"
            row = dict(
                common,
                node_level="indicator",
                node_code=c,
                parent_node_code=ind["theme_code"],
                quadrant_code=ind["quadrant_code"],
                is_judged=judged,
                value=value,
                city_value=base_values[c],
                index_value=index,
                **{"class": klass},
                significant=(k % 2 == 0) if survey else None,
                suppressed=False,
                suppression_reason=None,
                n_unweighted=float(300 + 7 * k) if survey else None,
                standard_error=0.02 if survey else None,
                ci_low=value * 0.9 if survey else None,
                ci_high=value * 1.1 if survey else None,
                n_children=None,
                n_children_shown=None,
            )
            if code == "WK000101" and c == "tevreden":  # a faulty mart: suppressed, values kept
                row.update(
                    value=LEAKS["status_value"],
                    index_value=LEAKS["status_index"],
                    suppressed=True,
                    suppression_reason="n below 50",
                    n_unweighted=12.0,
                    ci_low=0.31,
                    ci_high=0.53,
                    **{"class": "beter"},
                )
            if code == "WK000102" and c == "cohesie":  # the fact is suppressed, the mart is not
                row.update(value=LEAKS["crosscheck_value"])
            status.append(row)
            if not row["suppressed"]:
                themes.setdefault(ind["theme_code"], []).append(index)
            dev = dict(
                common,
                base_period=2016,
                node_level="indicator",
                node_code=c,
                parent_node_code=ind["theme_code"],
                quadrant_code=ind["quadrant_code"],
                is_judged=judged,
                base_value=value * 0.95,
                current_value=value,
                change=value * 0.05,
                city_change=value * 0.03,
                index_value=index,
                **{"class": klass},
                significant=(k % 2 == 1) if survey else None,
                suppressed=False,
                suppression_reason=None,
                n_children=None,
                n_children_shown=None,
            )
            if code == "WK000100" and c == "misdrijven":
                dev.update(
                    change=LEAKS["development_change"],
                    suppressed=True,
                    suppression_reason="no city change",
                    index_value=None,
                    city_change=None,
                    **{"class": None},
                )
            development.append(dev)
            periods = range(2016, edition + 1, 2) if survey else range(2016, edition + 1)
            for p in periods:
                v = value * (1 + 0.02 * (p - edition))
                hidden = (
                    (code == "WK000101" and c == "tevreden" and p == edition)
                    or (code == "WK000102" and c == "cohesie" and p == edition)
                    or (code == "WK000103" and c == "misdrijven" and p == 2019)
                )
                for area_code, is_city, val in ((code, False, v), (gm, True, base_values[c])):
                    if is_city and a > 0:
                        continue
                    facts.append(
                        dict(
                            area_edition=2019,
                            gemeente_code=gm,
                            area_code=area_code,
                            is_city=is_city,
                            period=p,
                            indicator_code=c,
                            value=(
                                LEAKS["status_value"]
                                if hidden and c == "tevreden"
                                else None
                                if hidden
                                else val
                            ),
                            numerator=None,
                            denominator=None,
                            n_unweighted=float(300 + p - 2016) if survey else None,
                            n_weighted=None,
                            standard_error=0.02 if survey else None,
                            ci_low=val * 0.9 if survey else None,
                            ci_high=val * 1.1 if survey else None,
                            contrast_with_city=None,
                            contrast_se=None,
                            significant=None,
                            suppressed=hidden and not is_city,
                            suppression_reason=("n below 50" if hidden and not is_city else None),
                            city_value_source="published",
                            is_harmonised=False,
                            harmonisation_method="identity",
                            load_ids=["load-1"],
                        )
                    )
        for theme, values in themes.items():
            ind = next(i for i in used if i["theme_code"] == theme)
            index = sum(values) / len(values)
            judged = ind["is_judged"]
            for rows in (status, development):
                extra = {"base_period": 2016} if rows is development else {}
                rows.append(
                    dict(
                        common,
                        **extra,
                        node_level="theme",
                        node_code=theme,
                        parent_node_code=ind["quadrant_code"],
                        quadrant_code=ind["quadrant_code"],
                        is_judged=judged,
                        index_value=index,
                        **{"class": "gemiddeld" if judged else "minder"},
                        suppressed=False,
                        n_children=2,
                        n_children_shown=len(values),
                    )
                )
        for q, judged in (
            ("samenstelling", False),
            ("fysiek", True),
            ("leefbaarheid", True),
            ("sociaal", True),
        ):
            for rows in (status, development):
                extra = {"base_period": 2016} if rows is development else {}
                rows.append(
                    dict(
                        common,
                        **extra,
                        node_level="quadrant",
                        node_code=q,
                        parent_node_code="centrum",
                        quadrant_code=q,
                        is_judged=judged,
                        index_value=90.0 + 5 * a,
                        **{
                            "class": ("slechter" if a == 0 else "gemiddeld") if judged else "minder"
                        },
                        suppressed=False,
                        n_children=2,
                        n_children_shown=2,
                    )
                )
        for rows in (status, development):
            extra = {"base_period": 2016} if rows is development else {}
            rows.append(
                dict(
                    common,
                    **extra,
                    node_level="centre",
                    node_code="centrum",
                    parent_node_code=None,
                    quadrant_code=None,
                    is_judged=True,
                    index_value=92.0 + 6 * a,
                    **{"class": classes[min(4, 1 + a)]},
                    suppressed=False,
                    n_children=3,
                    n_children_shown=3,
                )
            )
        profile.append(
            dict(
                edition=edition,
                area_edition=2019,
                area_code=code,
                area_name=TINY_AREAS[code][0],
                parent_code=TINY_AREAS[code][1],
                population=4000 + 250 * a,
                status_centre_index=92.0 + 6 * a,
            )
        )
    facts.append(
        dict(
            area_edition=2008,
            gemeente_code=gm,
            area_code="WK000099",
            is_city=False,
            period=2016,
            indicator_code="inwoners",
            value=1.0,
            suppressed=False,
        )
    )
    periods = [
        dict(
            period=p,
            has_survey_wave=p % 2 == 0,
            has_registry=True,
            has_activities=True,
            area_edition=2008 if p < 2019 else 2019,
            is_current_period=p == edition,
            is_base_period=p == 2016,
        )
        for p in range(2016, edition + 1)
    ]
    tables = {
        "mart_compass_status": pd.DataFrame(status),
        "mart_compass_development": pd.DataFrame(
            development if with_development else [], columns=list(development[0])
        ),
        "mart_area_profile": pd.DataFrame(profile),
        "fct_indicator_value": pd.DataFrame(facts),
        "dim_area": pd.DataFrame(areas),
        "dim_indicator": pd.DataFrame(indicators),
        "dim_period": pd.DataFrame(periods),
    }
    for name, df in tables.items():
        for column in (
            "significant",
            "suppression_reason",
            "parent_node_code",
            "quadrant_code",
            "class",
            "geometry_wkt",
            "parent_code",
        ):
            if column in df:
                df[column] = df[column].astype("object")
        if name == "mart_compass_development" and df.empty:
            df = df.astype(
                {
                    "edition": "int32",
                    "area_code": "object",
                    "node_level": "object",
                    "node_code": "object",
                    "suppressed": "bool",
                    "base_period": "int32",
                }
            )
        df.to_parquet(root / f"{name}.parquet", index=False)
        df.to_csv(root / f"{name}.csv", index=False)
    (root / "manifest.json").write_text(json.dumps({"edition": edition}) + "\n")
    return root


@pytest.fixture
def tiny_edition(tmp_path) -> Path:
    return make_edition(tmp_path / "exports" / "2024")


@pytest.fixture(scope="session")
def edition_factory():
    return make_edition


@pytest.fixture
def leaks() -> dict:
    return dict(LEAKS)


@pytest.fixture(scope="session")
def tiny_built_site(tmp_path_factory) -> Path:
    """The tiny edition with its site built once per session (for the browser tests)."""
    from basismonitor.site import build_site

    edition = make_edition(tmp_path_factory.mktemp("tiny-browser") / "2024")
    build_site(edition, progress=lambda _: None)
    return edition
