"""Images in and out of the vision implementations, decoded defensively.

Images travel as base64 in an ``image`` field: PNG or JPEG in (a
``data:image/…;base64,`` prefix and line breaks are accepted), PNG out (plain
base64, no prefix). ``decode`` turns untrusted text into a Pillow image or
raises ``ImplError("bad_input", …, field)``:

* at most ``MAX_IMAGE_BYTES`` decoded bytes (the text is measured first, so
  an oversized one is refused before it is decoded);
* only Pillow's PNG and JPEG decoders are tried (``formats=``), never the
  dozens of other formats it knows;
* at most ``MAX_PIXELS`` pixels, checked from the header before any pixel is
  decoded. ``Image.MAX_IMAGE_PIXELS`` is lowered to the same value, so
  Pillow itself refuses anything twice that size (``DecompressionBombError``)
  and warns above it (``DecompressionBombWarning``, an error where warnings
  are errors); both become ``bad_input`` too;
* a file that does not decode whole is ``bad_input`` (truncated files are
  not half-loaded).

A decoded image is turned upright by its EXIF orientation (so coordinates are
those of the picture as shown) and its mode is brought to one of ``1``,
``L``, ``LA``, ``RGB``, ``RGBA`` (palette → RGB/RGBA, CMYK → RGB, 16-bit grey
→ 8-bit). ``gray`` flattens transparency onto white before it drops colour,
so dark text on a transparent background stays visible.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import re

from PIL import Image, ImageOps

from neira_factory.domain import deadlines
from neira_factory.library.core import ImplError

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # decoded PNG/JPEG bytes
MAX_PIXELS = 40_000_000  # width × height
# 10 MiB as base64, plus room for MIME line breaks (CRLF every 76) and a data: prefix
MAX_IMAGE_CHARS = 14_500_000
_MAX_BASE64 = 4 * math.ceil(MAX_IMAGE_BYTES / 3)
_FORMATS = ("PNG", "JPEG")
_KEPT_MODES = ("1", "L", "LA", "RGB", "RGBA")
_DATA_URL = re.compile(r"data:([^,]*),", re.IGNORECASE)

if Image.MAX_IMAGE_PIXELS is None or Image.MAX_IMAGE_PIXELS > MAX_PIXELS:
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow's own guard: warn above, refuse above twice this

IMAGE_FIELD = {"type": "string", "maxLength": MAX_IMAGE_CHARS}
IMAGE_INPUT = {"type": "object", "properties": {"image": IMAGE_FIELD}, "required": ["image"]}
# a 4×2 colour PNG: the input a vision implementation is shown running on (library.core.About.example)
SAMPLE_PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAQAAAACCAIAAADwyuo0AAAAGUlEQVR42mP4z8DA8J+BgeH/////mRiQAABryAX93EiNugAAAABJRU5E"
              "rkJggg==")
IMAGE_OUTPUT = {
    "type": "object",
    "properties": {"image": {"type": "string"}, "width": {"type": "integer"}, "height": {"type": "integer"}},
    "required": ["image", "width", "height"],
}


def decode(text: str, field: str = "input.image") -> Image.Image:
    """The image in ``text`` (base64 PNG/JPEG, optionally a data URL), upright, in a kept mode."""
    data = _bytes(text, field)
    try:
        image = Image.open(io.BytesIO(data), formats=_FORMATS)
        _check_pixels(image.width, image.height, field)
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except ImplError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImplError("bad_input", f"image has too many pixels (at most {MAX_PIXELS}): {error}", field) from None
    except Image.UnidentifiedImageError:
        raise ImplError("bad_input", "not a PNG or JPEG image", field) from None
    except Exception as error:  # noqa: BLE001 - hostile files raise all sorts (OSError, SyntaxError, …)
        raise ImplError("bad_input", f"image could not be decoded: {type(error).__name__}: {error}", field) from None
    deadlines.check()  # each native step is seconds at MAX_PIXELS: none starts past the call's deadline
    return _normal_mode(image)


def _bytes(text: str, field: str) -> bytes:
    text = text.strip()
    prefix = _DATA_URL.match(text)
    if prefix:
        header = prefix.group(1).lower()
        if not header.startswith("image/") or not header.endswith(";base64"):
            raise ImplError("bad_input", f"a data URL must be data:image/...;base64, got data:{header}", field)
        text = text[prefix.end() :]
    compact = "".join(text.split())
    if not compact:
        raise ImplError("bad_input", "image is empty", field)
    if len(compact) > _MAX_BASE64 + 4:
        raise ImplError("bad_input", f"image is larger than {MAX_IMAGE_BYTES} bytes", field)
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ImplError("bad_input", "image is not valid base64", field) from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ImplError("bad_input", f"image is larger than {MAX_IMAGE_BYTES} bytes", field)
    return data


def _check_pixels(width: int, height: int, field: str) -> None:
    if width * height > MAX_PIXELS:
        raise ImplError("bad_input", f"image has too many pixels: {width}×{height} (at most {MAX_PIXELS})", field)


def _normal_mode(image: Image.Image) -> Image.Image:
    mode = image.mode
    if mode in _KEPT_MODES:
        return image
    if mode.startswith("I"):  # 16-bit (and 32-bit integer) grey: scale to 8 bits
        return image.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    alpha = "A" in image.getbands() or "transparency" in image.info
    return image.convert("RGBA" if alpha else "RGB")


def gray(image: Image.Image) -> Image.Image:
    """``image`` in 8-bit grey (mode ``L``), transparency flattened onto white."""
    deadlines.check()
    if image.mode == "L":
        return image
    if image.mode in ("LA", "RGBA"):
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        white.alpha_composite(image.convert("RGBA"))
        image = white
    return image.convert("L")


def encode_png(image: Image.Image) -> bytes:
    """``image`` as PNG bytes."""
    deadlines.check()
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def output(image: Image.Image) -> dict:
    """``{image, width, height}``: the image as base64 PNG and its size."""
    return {
        "image": base64.b64encode(encode_png(image)).decode("ascii"),
        "width": image.width,
        "height": image.height,
    }
