"""Image implementations on Pillow: ``image_downscale``, ``image_binarize``, ``image_grayscale``.

Each takes ``{image}`` (base64 PNG or JPEG, see ``images``) and gives
``{image, width, height}`` (base64 PNG and its size), so they chain with each
other and with ``ocr`` in any order: vision v1 is downscale → binarize, v2
grayscale → downscale → ocr.

* ``image_downscale``: the longer side at most ``max_side`` (default 1024,
  16..8192, tunable), aspect ratio kept, never upscaled; Lanczos filter.
  Colour and transparency are kept.
* ``image_binarize``: grey (transparency on white), then a pixel darker than
  ``threshold`` (default 128, 0..255, tunable) is black (0) and any other
  white (255); a 1-bit PNG.
* ``image_grayscale``: 8-bit grey (transparency on white).
"""

from __future__ import annotations

from PIL import Image

from neira_factory.library import images
from neira_factory.library.core import About, ImplContext, define


def _downscale(input: dict, params: dict, ctx: ImplContext) -> dict:
    image = images.decode(input["image"])
    side = round(params["max_side"])
    if max(image.size) > side:
        image.thumbnail((side, side), Image.Resampling.LANCZOS)
    return images.output(image)


def _binarize(input: dict, params: dict, ctx: ImplContext) -> dict:
    threshold = params["threshold"]
    table = [0 if value < threshold else 255 for value in range(256)]
    bw = images.gray(images.decode(input["image"])).point(table).convert("1", dither=Image.Dither.NONE)
    return images.output(bw)


def _grayscale(input: dict, params: dict, ctx: ImplContext) -> dict:
    return images.output(images.gray(images.decode(input["image"])))


IMPLS = (
    define(
        "image_downscale",
        _downscale,
        input_schema=images.IMAGE_INPUT,
        output_schema=images.IMAGE_OUTPUT,
        description="Shrinks an image so its longer side is at most max_side (aspect kept, never upscaled); PNG out.",
        params={"max_side": {"value": 1024, "min": 16, "max": 8192, "step": 16, "tunable": True}},
        heavy=True,
        about=About(
            ru="Уменьшает изображение так, чтобы длинная сторона была не больше max_side пикселей, сохраняя "
               "пропорции: меньше размер и разрешение.",
            en="Shrinks an image so its longer side is at most max_side, keeping the aspect ratio: a smaller "
               "size and resolution.",
            words=("уменьшить", "уменьшать", "сжать", "сжимать", "масштабировать", "масштабирование", "размер",
                   "разрешение", "миниатюра", "превью", "картинка", "изображение", "фото", "фотография",
                   "downscale", "shrink", "resize", "scale down", "smaller", "thumbnail", "resolution",
                   "size", "image", "picture", "photo"),
            example={"image": images.SAMPLE_PNG},
        ),
    ),
    define(
        "image_binarize",
        _binarize,
        input_schema=images.IMAGE_INPUT,
        output_schema=images.IMAGE_OUTPUT,
        description="Black and white: grey pixels darker than threshold become black, the rest white; 1-bit PNG.",
        params={"threshold": {"value": 128, "min": 0, "max": 255, "step": 1, "tunable": True}},
        heavy=True,
        about=About(
            ru="Делает изображение чёрно-белым (бинаризация): пиксели темнее порога становятся чёрными, "
               "остальные белыми.",
            en="Makes an image black and white (binarisation): pixels darker than a threshold become black, "
               "the rest white.",
            words=("бинаризация", "бинаризовать", "чёрно-белый", "черно белый", "порог", "монохромный",
                   "двухцветный", "скан", "картинка", "изображение", "фото", "фотография", "binarize", "binarise",
                   "binarization",
                   "black and white", "threshold", "monochrome", "bilevel", "scan", "image", "picture", "photo"),
            example={"image": images.SAMPLE_PNG},
        ),
    ),
    define(
        "image_grayscale",
        _grayscale,
        input_schema=images.IMAGE_INPUT,
        output_schema=images.IMAGE_OUTPUT,
        description="Converts an image to 8-bit grey (transparency flattened onto white); PNG out.",
        heavy=True,
        about=About(
            ru="Делает изображение серым: оттенки серого (8 бит), цвет убирается, прозрачность заливается "
               "белым.",
            en="Converts an image to shades of grey (8-bit): colour removed, transparency flattened onto white.",
            words=("серый", "оттенки серого", "градации серого", "обесцветить", "обесцвечивание",
                   "убрать цвет", "бесцветный", "картинка", "изображение", "фото", "фотография", "grayscale",
                   "greyscale", "gray", "grey", "desaturate", "remove colour", "remove color",
                   "shades of gray", "shades of grey", "colorless", "image", "picture", "photo"),
            example={"image": images.SAMPLE_PNG},
        ),
    ),
)
