"""``ocr``: the text in an image, read by Tesseract, optionally inside a region of interest.

Input ``{image, roi?}``; output ``{text, boxes, width, height, confidence}``:

* ``roi`` ``{x, y, width, height}`` (pixels of the input image) restricts the
  reading to that rectangle; from the input, else from the ``roi`` param,
  else the whole image. A ROI reaching past the image is clipped to it; one
  with no pixel inside it is refused (``bad_input`` / ``bad_params``).
* ``boxes``: one per word, ``{text, x, y, width, height, confidence}`` in
  the coordinates of the whole input image (the ROI's offset added back),
  confidence 0..1; ``text``: the words, lines separated by ``\\n``;
  ``width``/``height``: the whole input image's size; ``confidence``: the
  mean word confidence (0 when nothing was read), so a node's
  ``confidence_threshold`` can mark poor readings uncertain.

Params: ``lang`` (default ``eng+rus``: a ``+``-joined list of installed
Tesseract languages, the first one primary; others are refused), ``psm``
(Tesseract's page segmentation mode: 1 or 3..13; default Tesseract's own, 3),
``roi``. The image is made grey (transparency on white), cropped, given a
border of its own edge colour (Tesseract misses text that touches the edge)
and handed to ``tesseract`` as a PNG; see ``tesseract``.

Why ``eng+rus`` and not ``rus+eng``: Tesseract favours its first language,
and with Russian first it reads Latin words made of Cyrillic look-alike
letters as Russian ("Neira" → "Мега"); with English first both scripts read
correctly.
"""

from __future__ import annotations

from statistics import median

from PIL import Image, ImageOps

from neira_factory.library import images, tesseract
from neira_factory.library.core import About, ImplContext, ImplError, define

DEFAULT_LANG = "eng+rus"
PAD = 16  # border around the region given to Tesseract, in pixels
_PSMS = (1, *range(3, 14))  # 0 is orientation only and 2 is not implemented: neither gives text
_ROI_KEYS = ("x", "y", "width", "height")
_INTEGER = {"type": "integer"}

ROI_SCHEMA = {"type": "object", "properties": dict.fromkeys(_ROI_KEYS, _INTEGER), "required": list(_ROI_KEYS)}
BOX_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string"}, **dict.fromkeys(_ROI_KEYS, _INTEGER), "confidence": {"type": "number"}},
    "required": ["text", *_ROI_KEYS, "confidence"],
}


def _ocr(input: dict, params: dict, ctx: ImplContext) -> dict:
    lang = tesseract.check_lang(params["lang"])
    psm = _psm(params.get("psm"))
    if input.get("roi") is not None:
        roi, where, code = input["roi"], "input.roi", "bad_input"
    else:
        roi, where, code = params.get("roi"), "params.roi", "bad_params"
    if roi is not None:
        _check_roi(roi, where, code)
    image = images.decode(input["image"])
    left, top, right, bottom = _region(roi, image.size, where, code)
    region = images.gray(image.crop((left, top, right, bottom)))
    framed = ImageOps.expand(region, PAD, fill=_edge_value(region))
    words = tesseract.words(images.encode_png(framed), lang, psm)
    boxes = [_box(word, left, top, right, bottom) for word in words]
    return {
        "text": _text(words),
        "boxes": boxes,
        "width": image.width,
        "height": image.height,
        "confidence": round(sum(box["confidence"] for box in boxes) / len(boxes), 4) if boxes else 0.0,
    }


def _psm(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value not in _PSMS:
        raise ImplError("bad_params", f"psm must be one of {list(_PSMS)} or null, got {value!r}", "params.psm")
    return int(value)


def _check_roi(roi: object, where: str, code: str) -> None:
    """Shape of a ROI from the params (the input's is checked by the schema too)."""
    if not isinstance(roi, dict) or any(key not in roi for key in _ROI_KEYS):
        raise ImplError(code, f"roi must be an object {{x, y, width, height}}, got {roi!r}", where)
    for key in _ROI_KEYS:
        value = roi[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or not float(value).is_integer():
            raise ImplError(code, f"roi.{key} must be an integer, got {value!r}", f"{where}.{key}")
    for key in ("width", "height"):
        if roi[key] < 1:
            raise ImplError(code, f"roi.{key} must be at least 1, got {roi[key]}", f"{where}.{key}")


def _region(roi: dict | None, size: tuple[int, int], where: str, code: str) -> tuple[int, int, int, int]:
    """``(left, top, right, bottom)`` of the ROI clipped to the image; the whole image without one."""
    width, height = size
    if roi is None:
        return 0, 0, width, height
    x, y = int(roi["x"]), int(roi["y"])
    left, top = max(x, 0), max(y, 0)
    right, bottom = min(x + int(roi["width"]), width), min(y + int(roi["height"]), height)
    if right <= left or bottom <= top:
        raise ImplError(code, f"roi {roi} has no pixel inside the {width}×{height} image", where)
    return left, top, right, bottom


def _edge_value(region: Image.Image) -> int:
    """The median grey of the region's outermost pixels: the colour its border is extended with."""
    width, height = region.size
    strips = [(0, 0, width, 1), (0, height - 1, width, height), (0, 0, 1, height), (width - 1, 0, width, height)]
    values = [value for strip in strips for value in region.crop(strip).tobytes()]  # mode L: a byte a pixel
    return int(median(values))


def _box(word: tesseract.Word, left: int, top: int, right: int, bottom: int) -> dict:
    """A word's box in the whole image: the border taken off, the ROI offset added, clipped to the ROI."""
    x0 = min(max(word.left - PAD + left, left), right)
    y0 = min(max(word.top - PAD + top, top), bottom)
    x1 = min(max(word.left + word.width - PAD + left, left), right)
    y1 = min(max(word.top + word.height - PAD + top, top), bottom)
    return {
        "text": word.text,
        "x": x0,
        "y": y0,
        "width": x1 - x0,
        "height": y1 - y0,
        "confidence": round(word.confidence / 100, 4),
    }


def _text(words: list[tesseract.Word]) -> str:
    lines: dict[tuple, list[str]] = {}
    for word in words:
        lines.setdefault(word.line, []).append(word.text)
    return "\n".join(" ".join(line) for line in lines.values())


IMPLS = (
    define(
        "ocr",
        _ocr,
        input_schema={
            "type": "object",
            "properties": {"image": images.IMAGE_FIELD, "roi": {**ROI_SCHEMA, "type": ["object", "null"]}},
            "required": ["image"],
        },
        output_schema={
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "boxes": {"type": "array", "items": BOX_SCHEMA},
                "width": _INTEGER,
                "height": _INTEGER,
                "confidence": {"type": "number"},
            },
            "required": ["text", "boxes", "width", "height", "confidence"],
        },
        description="Reads the text in an image (or a region of it) with Tesseract (eng+rus): text and word boxes.",
        about=About(
            ru="Распознаёт текст на изображении (OCR, Tesseract; русский и английский): читает текст со скана "
               "или картинки и даёт рамки слов.",
            en="Reads the text in an image (OCR with Tesseract; English and Russian): the text of a scan or "
               "picture and the boxes of its words.",
            words=("ocr", "распознавание текста", "распознать текст", "прочитать текст", "читать текст", "чтение",
                   "текст с картинки", "достать текст", "скан", "сканировать", "документ", "tesseract", "картинка",
                   "изображение", "фото", "фотография", "text recognition", "recognize text", "recognise text",
                   "read text", "text from image", "scan", "scanned", "document", "image", "picture",
                   "photo"),
            example={"image": images.SAMPLE_PNG},
        ),
        params={
            "lang": {"value": DEFAULT_LANG, "tunable": False},
            "psm": {"value": None, "tunable": False},
            "roi": {"value": None, "tunable": False},
        },
        heavy=True,
    ),
)
