"""Uploaded images (the union's logo, contest images and photos): one set of rules for all.

PNG or JPEG only, within a size and a pixel limit, checked before decoding; the picture is
turned upright (camera orientation), fitted into a box and written as a fresh PNG, so no
metadata (location, camera) and nothing but pixels survives the upload.
"""

import io

from PIL import Image, ImageOps, UnidentifiedImageError

from webapp.domain.errors import InvalidImage

MAX_BYTES = 2 * 1024 * 1024
MAX_PIXELS = 4096 * 4096


def reencode(data: bytes, box: tuple[int, int]) -> bytes:
    """A fresh PNG of an uploaded PNG or JPEG fitted into `box`; InvalidImage with the reason otherwise."""
    if len(data) > MAX_BYTES:
        raise InvalidImage("too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in ("PNG", "JPEG"):
                raise InvalidImage("format")
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidImage("too_many_pixels")
            probe.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
            clean = upright.convert(mode)
    except InvalidImage:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImage("unreadable") from exc
    clean.thumbnail(box)
    fresh = Image.new(mode, clean.size)
    fresh.paste(clean)
    out = io.BytesIO()
    fresh.save(out, format="PNG", compress_level=6)
    return out.getvalue()
