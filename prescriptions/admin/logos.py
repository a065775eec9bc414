"""Uploaded clinic logos: sniffed, size-limited and re-encoded, never stored as sent."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, UnidentifiedImageError

#: A logo prints about 4 cm wide; this keeps it sharp without storing a photograph.
MAX_PIXELS = (800, 400)
ALLOWED_FORMATS = {"PNG", "JPEG"}


class LogoError(ValueError):
    """The upload is not a logo we can use; the message says why, for the person."""


def clean_logo(data: bytes, max_bytes: int) -> bytes:
    """A re-encoded PNG of an uploaded PNG or JPEG, at most MAX_PIXELS."""
    if not data:
        raise LogoError("The file is empty.")
    if len(data) > max_bytes:
        raise LogoError(f"The file is larger than {max_bytes // 1024} KB. Choose a smaller one.")
    try:
        with Image.open(BytesIO(data)) as image:
            if image.format not in ALLOWED_FORMATS:
                raise LogoError("Upload a PNG or JPEG image.")
            if image.width * image.height > 25_000_000:
                raise LogoError("The image is too large. Choose a smaller one.")
            image.load()
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
            image.thumbnail(MAX_PIXELS)
            out = BytesIO()
            image.save(out, format="PNG", optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise LogoError("Upload a PNG or JPEG image.") from error
    return out.getvalue()
