"""Helpers for the browser tests: live server, Chromium flags, QR/Y4M, axe, layout checks.

The recipes come from the team's testing notes: Debian's Chromium driven by Playwright
(never `playwright install`), a fake camera fed with a Y4M file, axe-core run in the page.
"""

import io
import os
import threading
from pathlib import Path

import qrcode
import zxingcpp
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from werkzeug.serving import make_server

ASSETS = Path(__file__).resolve().parent / "assets"
AXE_JS = ASSETS / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright adds --headless itself; these keep Chromium off the network and quiet.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
    "locale": "fr-FR",
}


def camera_flags(y4m: Path) -> list[str]:
    """A fake camera that films `y4m` (looped), with camera permission granted."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m.resolve()}",
    ]


class LiveServer:
    """A WSGI app served by werkzeug on 127.0.0.1:<free port> in a daemon thread.

    127.0.0.1 is a secure context for Chromium, so the camera works over plain http.
    """

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


def write_qr_y4m(text: str, path: Path, width: int = 640, height: int = 480, fill: float = 0.6) -> Path:
    """A one-frame Y4M video (Chromium loops it) of the QR code of `text`, in pure Python.

    The QR (with its quiet zone) covers `fill` of the shorter side: qr-scanner only looks
    at the central 2/3 square of the frame. Width and height must be even (4:2:0).
    """
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(text)
    qr.make(fit=True)
    image = qr.make_image(fill_color="black", back_color="white").get_image().convert("L")
    side = int(min(width, height) * fill) // 2 * 2
    image = image.resize((side, side), Image.NEAREST)
    frame = Image.new("L", (width, height), 255)
    frame.paste(image, ((width - side) // 2, (height - side) // 2))
    chroma = bytes([128]) * ((width // 2) * (height // 2))  # neutral U and V planes
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n")
        out.write(frame.tobytes())  # grey levels are the luma plane (full range: C420jpeg)
        out.write(chroma)
        out.write(chroma)
    return path


def decode_qr(png: bytes) -> list[str]:
    """The texts of the QR codes in a PNG screenshot."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return [result.text for result in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def axe_violations(page) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the current page, one readable line each.

    The script is evaluated through the DevTools protocol, so the page's CSP
    (script-src 'self') stays in force and axe needs no route on the server.
    """
    page.wait_for_load_state("load")  # not the page a click is still leaving (see layout_width)
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    return [
        f"[{v['impact']}] {v['id']}: {v['help']} -> {[node['target'] for node in v['nodes']][:5]}"
        for v in result["violations"]
    ]


def layout_width(page) -> dict:
    """The layout viewport and the document's scroll width (a phone widens the former on overflow).

    Measured once the page has loaded: a click on a link returns as soon as the navigation
    commits, and a page measured before its style sheet applies is wider than it will be.
    """
    page.wait_for_load_state("load")
    return page.evaluate("() => ({innerWidth: window.innerWidth, scrollWidth: document.documentElement.scrollWidth})")


def sign_in(page, email: str, password: str) -> None:
    page.goto("/auth/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe", exact=True).fill(password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_load_state()


def collect_errors(page) -> list[str]:
    """Console errors and uncaught exceptions of `page` from now on (CSP violations show up here)."""
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
