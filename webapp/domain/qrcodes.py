"""QR images of card URLs: pure functions returning bytes."""

import io

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(data: str, box_size: int, border: int) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=border)
    qr.add_data(data)
    qr.make(fit=True)
    return qr


def qr_svg(data: str) -> str:
    """A compact SVG (one path, scalable, black on white) for inline use in pages."""
    image = _qr(data, box_size=10, border=4).make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.to_string(encoding="unicode")
    return svg.split("?>", 1)[-1].strip()


def qr_png(data: str, box_size: int = 10) -> bytes:
    image = _qr(data, box_size=box_size, border=4).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
