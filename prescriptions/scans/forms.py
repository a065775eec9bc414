"""The upload form: one phone photo or a scanned PDF, sniffed and size-checked like the logo."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.validators import ValidationError

#: Pages one upload may carry (a stack of a month's sheets for a few patients).
MAX_PAGES = 40
#: Pixels an image may have: a 48-megapixel phone photo, not a decompression bomb.
MAX_PIXELS = 50_000_000
_HEIF_BRANDS = (b"heic", b"heix", b"heif", b"mif1", b"msf1", b"hevc")


def size_text(n: int) -> str:
    """A byte count as people say it: "25 MB", "500 KB"."""
    return f"{n // (1024 * 1024)} MB" if n >= 1024 * 1024 else f"{max(1, n // 1024)} KB"


def too_large(max_bytes: int) -> str:
    """The message for an upload over the limit."""
    return (
        f"The file is larger than {size_text(max_bytes)}. "
        "Scan fewer pages at a time, or at 300 dpi or less."
    )


class ScanError(ValueError):
    """The upload is not a photo or PDF of sheets we can read; the message says why."""


def kind_of(data: bytes) -> str:
    """'pdf', 'jpeg', 'png' or 'heic', by the file's first bytes (never by its name)."""
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS:
        return "heic"
    raise ScanError("Upload a photo (JPEG, PNG or HEIC) or a PDF from the scanner.")


def check_scan(data: bytes, max_bytes: int) -> str:
    """The kind of an uploaded scan once it passes the checks, else ScanError."""
    if not data:
        raise ScanError("The file is empty.")
    if len(data) > max_bytes:
        raise ScanError(too_large(max_bytes))
    kind = kind_of(data)
    if kind == "pdf":
        _check_pdf(data)
    else:
        _check_image(data)
    return kind


def _check_pdf(data: bytes) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        pages = len(PdfReader(BytesIO(data)).pages)
    except (PyPdfError, ValueError, OSError) as error:
        raise ScanError("This PDF could not be opened.") from error
    if pages == 0:
        raise ScanError("This PDF has no pages.")
    if pages > MAX_PAGES:
        raise ScanError(f"This PDF has {pages} pages: upload at most {MAX_PAGES} at a time.")


def _check_image(data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
    except ImportError:  # pragma: no cover - HEIC is then refused as unreadable
        pass
    try:
        with Image.open(BytesIO(data)) as image:
            if image.width * image.height > MAX_PIXELS:
                raise ScanError("The image is too large. Take the photo at a lower resolution.")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ScanError("This image could not be opened.") from error


class ScanUploadForm(FlaskForm):
    sheet = FileField(
        "Photo or scan of the returned sheets",
        description="A phone photo of one sheet, or a PDF of several pages from the scanner.",
    )

    def __init__(self, *args: Any, max_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_bytes = max_bytes
        self.data_bytes: bytes = b""

    def validate_sheet(self, field: Any) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError("Choose a photo or a PDF of the returned sheets.")
        data = upload.read(self._max_bytes + 1)
        try:
            check_scan(data, self._max_bytes)
        except ScanError as error:
            raise ValidationError(str(error)) from error
        self.data_bytes = data
