"""Vision: image_downscale, image_binarize, image_grayscale (Pillow) and ocr (real Tesseract)."""

from __future__ import annotations

import base64
import io
import struct
import warnings
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from neira_factory.domain.schemas import schema_fits
from neira_factory.library import ImplError, get, io_schema, link_problems, names, tesseract
from neira_factory.library.images import MAX_IMAGE_BYTES

FONT_PATHS = [
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),  # Debian: fonts-dejavu-core
    *sorted(Path("/usr/share/fonts").glob("**/DejaVuSans.ttf")),
]
FONT = next((path for path in FONT_PATHS if path.is_file()), None)
VISION = ("image_downscale", "image_binarize", "image_grayscale", "ocr")


def b64(image: Image.Image, format: str = "PNG", **save) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format, **save)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def unb64(text: str) -> Image.Image:
    data = base64.b64decode(text)
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "output images are PNG"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` 1-bit pixels but holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) + chunk(b"IEND", b"")


def bad_input(call, name, input, params=None) -> ImplError:
    with pytest.raises(ImplError) as caught:
        call(name, input, params)
    assert caught.value.code == "bad_input", caught.value.reason
    return caught.value


# --- registry and chaining ---------------------------------------------------


def test_vision_impls_are_registered_without_side_effects():
    assert set(VISION) <= set(names())
    assert not any(get(name).side_effects for name in VISION)


@pytest.mark.parametrize(
    ("producer", "consumer"),
    [
        ("image_downscale", "image_binarize"),  # vision v1
        ("image_grayscale", "image_downscale"),  # vision v2
        ("image_downscale", "ocr"),
        ("image_binarize", "ocr"),
        ("image_binarize", "image_grayscale"),
    ],
)
def test_image_links_fit(producer, consumer):
    produced, consumed = io_schema(producer)["output"], io_schema(consumer)["input"]
    assert link_problems(produced, consumed) == []
    assert schema_fits(produced, consumed) == []


def test_ocr_output_does_not_feed_an_image_impl():
    assert link_problems(io_schema("ocr")["output"], io_schema("image_downscale")["input"]) == [
        "input field 'image' is not produced"
    ]


# --- decoding and its guards -------------------------------------------------


def test_png_jpeg_and_data_urls_are_read(call):
    image = Image.new("RGB", (40, 20), (200, 30, 30))
    for text in (b64(image), b64(image, "JPEG"), "data:image/jpeg;base64," + b64(image, "JPEG")):
        out = call("image_grayscale", {"image": text})
        assert (out["width"], out["height"]) == (40, 20)
        assert unb64(out["image"]).mode == "L"
    wrapped = "\n".join(b64(image)[i : i + 76] for i in range(0, len(b64(image)), 76))
    assert call("image_grayscale", {"image": f"  DATA:image/png;base64,{wrapped}\n"})["width"] == 40


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!! not base64 !!!",
        base64.b64encode(b"just some text, not a picture").decode(),
        "data:text/plain;base64," + base64.b64encode(b"hi").decode(),
        "data:image/png," + "iVBORw0KGgo=",
        base64.b64encode(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").decode(),  # a GIF: only PNG and JPEG
        base64.b64encode(png_header(10, 10)[:30]).decode(),  # truncated
        base64.b64encode(png_header(10, 10)).decode(),  # a header with no real pixel data
    ],
)
def test_what_is_not_a_png_or_jpeg_is_bad_input(call, text):
    error = bad_input(call, "image_downscale", {"image": text})
    assert error.field == "input.image"


@pytest.mark.parametrize(("input", "field"), [({}, "input.image"), ({"image": 42}, "input.image"), ([], "input")])
def test_missing_or_mistyped_image_is_bad_input(call, input, field):
    assert bad_input(call, "image_binarize", input).field == field


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(8000, 6000), (20000, 20000), (1, 2**31 - 1)])
def test_too_many_pixels_is_refused_before_decoding(call, size):
    error = bad_input(call, "image_downscale", {"image": base64.b64encode(png_header(*size)).decode()})
    assert error.field == "input.image"
    assert "pixels" in error.reason


def test_bomb_warning_turned_error_is_still_bad_input(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        error = bad_input(call, "image_grayscale", {"image": base64.b64encode(png_header(7000, 7000)).decode()})
    assert error.field == "input.image"
    assert "pixels" in error.reason


def test_too_many_bytes_is_refused(call):
    text = base64.b64encode(b"\0" * (MAX_IMAGE_BYTES + 1)).decode()
    error = bad_input(call, "image_grayscale", {"image": text})
    assert error.field == "input.image"
    assert "larger than" in error.reason


def test_jpeg_exif_orientation_is_applied(call):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    text = b64(Image.new("RGB", (40, 20), "white"), "JPEG", exif=exif)
    out = call("image_downscale", {"image": text})
    assert (out["width"], out["height"]) == (20, 40)


@pytest.mark.parametrize(
    "image",
    [
        Image.new("P", (30, 10), 3),
        Image.new("I;16", (30, 10), 40000),
        Image.new("LA", (30, 10), (0, 0)),
        Image.new("1", (30, 10), 1),
        Image.new("CMYK", (30, 10), (0, 0, 0, 0)),
    ],
    ids=lambda image: image.mode,
)
def test_every_mode_comes_out_as_a_png(call, image):
    format = "JPEG" if image.mode == "CMYK" else "PNG"
    for name in ("image_downscale", "image_grayscale", "image_binarize"):
        out = call(name, {"image": b64(image, format)})
        assert (out["width"], out["height"]) == (30, 10)
        assert unb64(out["image"]).size == (30, 10)


# --- image_downscale ---------------------------------------------------------


def test_downscale_keeps_the_aspect_ratio(call):
    out = call("image_downscale", {"image": b64(Image.new("RGB", (2000, 1000), "navy"))})
    assert (out["width"], out["height"]) == (1024, 512)
    image = unb64(out["image"])
    assert image.size == (1024, 512)
    assert image.mode == "RGB"
    assert image.getpixel((500, 200)) == (0, 0, 128)


def test_downscale_by_param_and_portrait(call):
    out = call("image_downscale", {"image": b64(Image.new("L", (500, 1000)))}, {"max_side": 256})
    assert (out["width"], out["height"]) == (128, 256)


def test_small_images_are_not_upscaled(call):
    out = call("image_downscale", {"image": b64(Image.new("RGB", (300, 200), "white"))})
    assert (out["width"], out["height"]) == (300, 200)
    assert call("image_downscale", {"image": b64(Image.new("RGB", (64, 16)))}, {"max_side": 64})["width"] == 64


def test_downscale_keeps_transparency(call):
    out = call("image_downscale", {"image": b64(Image.new("RGBA", (200, 100), (0, 0, 0, 0)))}, {"max_side": 50})
    image = unb64(out["image"])
    assert image.mode == "RGBA"
    assert image.getpixel((10, 10))[3] == 0


@pytest.mark.parametrize("max_side", [8, 9000, "big", True])
def test_downscale_rejects_bad_max_side(call, max_side):
    with pytest.raises(ImplError) as caught:
        call("image_downscale", {"image": b64(Image.new("L", (10, 10)))}, {"max_side": max_side})
    assert caught.value.code == "bad_params"
    assert caught.value.field == "params.max_side"


def test_downscale_max_side_is_tunable():
    spec = get("image_downscale").params["max_side"]
    assert (spec["value"], spec["min"], spec["max"], spec["tunable"]) == (1024, 16, 8192, True)


# --- image_binarize and image_grayscale -------------------------------------


def gradient() -> Image.Image:
    image = Image.new("L", (256, 4))
    image.putdata([x for _ in range(4) for x in range(256)])
    return image


def values(text: str) -> list[int]:
    return list(unb64(text).convert("L").tobytes())


def test_binarize_leaves_only_black_and_white(call):
    photo = Image.new("RGB", (64, 64))
    photo.putdata([(x * 4, y * 4, (x + y) * 2) for y in range(64) for x in range(64)])
    out = call("image_binarize", {"image": b64(photo, "JPEG")})
    assert set(values(out["image"])) == {0, 255}
    assert unb64(out["image"]).mode == "1"
    assert set(values(call("image_binarize", {"image": b64(gradient())})["image"])) == {0, 255}


@pytest.mark.parametrize("threshold", [0, 1, 64, 128, 200, 255])
def test_threshold_moves_pixels(call, threshold):
    out = call("image_binarize", {"image": b64(gradient())}, {"threshold": threshold})
    row = values(out["image"])[:256]
    assert row == [0] * threshold + [255] * (256 - threshold)  # darker than the threshold is black


def test_binarize_puts_transparency_on_white(call):
    image = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 9, 9), fill=(0, 0, 0, 255))
    row = values(call("image_binarize", {"image": b64(image)})["image"])[:20]
    assert row == [0] * 10 + [255] * 10


def test_binarize_rejects_a_threshold_out_of_range(call):
    with pytest.raises(ImplError) as caught:
        call("image_binarize", {"image": b64(gradient())}, {"threshold": 256})
    assert (caught.value.code, caught.value.field) == ("bad_params", "params.threshold")


def test_grayscale_matches_pillow_luminance(call):
    image = Image.new("RGB", (3, 1))
    image.putdata([(255, 0, 0), (0, 255, 0), (0, 0, 255)])
    out = call("image_grayscale", {"image": b64(image)})
    assert unb64(out["image"]).mode == "L"
    assert values(out["image"]) == list(image.convert("L").tobytes())


def test_vision_v1_chain_downscale_then_binarize(call):
    first = call("image_downscale", {"image": b64(gradient().resize((2048, 32)))})
    second = call("image_binarize", first)
    assert (second["width"], second["height"]) == (1024, 16)
    assert set(values(second["image"])) == {0, 255}


# --- ocr ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def page():
    """900×300: "Neira 42" above "Привет", black on white; the image and each line's box."""
    assert FONT is not None, "no DejaVuSans.ttf: install fonts-dejavu-core (scripts/setup.sh does)"
    font = ImageFont.truetype(str(FONT), 48)
    image = Image.new("RGB", (900, 300), "white")
    draw = ImageDraw.Draw(image)
    draw.text((40, 40), "Neira 42", font=font, fill="black")
    draw.text((420, 180), "Привет", font=font, fill="black")
    boxes = {
        "neira": draw.textbbox((40, 40), "Neira 42", font=font),
        "привет": draw.textbbox((420, 180), "Привет", font=font),
    }
    return image, boxes


def roi_around(box, margin=20) -> dict:
    left, top, right, bottom = box
    return {"x": left - margin, "y": top - margin, "width": right - left + 2 * margin, "height": bottom - top + 2 * margin}


def inside(box: dict, outer: tuple, slack: int = 12) -> bool:
    left, top, right, bottom = outer
    return (
        box["x"] >= left - slack
        and box["y"] >= top - slack
        and box["x"] + box["width"] <= right + slack
        and box["y"] + box["height"] <= bottom + slack
    )


def test_ocr_reads_russian_and_english(call, page):
    image, boxes = page
    out = call("ocr", {"image": b64(image)})
    text = out["text"].casefold()
    assert "neira" in text and "42" in text and "привет" in text
    assert (out["width"], out["height"]) == (900, 300)
    found = {box["text"].casefold(): box for box in out["boxes"]}
    assert {"neira", "42", "привет"} <= set(found)
    assert inside(found["neira"], boxes["neira"])
    assert inside(found["привет"], boxes["привет"])
    for box in out["boxes"]:
        assert 0 <= box["confidence"] <= 1
    assert 0.5 < out["confidence"] <= 1


def test_ocr_inside_a_roi_reads_only_that_word_in_original_coordinates(call, page):
    image, boxes = page
    roi = roi_around(boxes["привет"])
    out = call("ocr", {"image": b64(image), "roi": roi})
    assert "привет" in out["text"].casefold()
    assert "neira" not in out["text"].casefold()
    assert (out["width"], out["height"]) == (900, 300), "the size is the whole image's"
    [box] = out["boxes"]
    assert box["x"] >= 400 and box["y"] >= 170, "the ROI's offset is added back"
    assert inside(box, boxes["привет"])
    whole = {b["text"]: b for b in call("ocr", {"image": b64(image)})["boxes"]}
    assert abs(box["x"] - whole[box["text"]]["x"]) <= 3 and abs(box["y"] - whole[box["text"]]["y"]) <= 3


def test_ocr_roi_from_params_and_the_input_overrides_it(call, page):
    image, boxes = page
    by_param = call("ocr", {"image": b64(image)}, {"roi": roi_around(boxes["neira"])})
    assert "neira" in by_param["text"].casefold() and "привет" not in by_param["text"].casefold()
    both = call("ocr", {"image": b64(image), "roi": roi_around(boxes["привет"])}, {"roi": roi_around(boxes["neira"])})
    assert "привет" in both["text"].casefold() and "neira" not in both["text"].casefold()
    null_roi = call("ocr", {"image": b64(image), "roi": None}, {"roi": roi_around(boxes["neira"])})
    assert "neira" in null_roi["text"].casefold()


def test_ocr_roi_past_the_edge_is_clipped(call, page):
    image, boxes = page
    left, top, _, _ = boxes["привет"]
    out = call("ocr", {"image": b64(image), "roi": {"x": left - 30, "y": top - 30, "width": 5000, "height": 5000}})
    assert out["text"].casefold() == "привет"
    for box in out["boxes"]:
        assert box["x"] + box["width"] <= 900 and box["y"] + box["height"] <= 300


def test_vision_v2_chain_grayscale_downscale_ocr(call, page):
    image, _ = page
    gray = call("image_grayscale", {"image": b64(image, "JPEG", quality=95)})
    small = call("image_downscale", gray, {"max_side": 800})
    assert (small["width"], small["height"]) == (800, 267)
    out = call("ocr", {**small, "roi": {"x": 0, "y": 0, "width": 800, "height": 120}})
    assert "neira" in out["text"].casefold() and "привет" not in out["text"].casefold()
    assert out["width"] == 800


def test_ocr_of_a_blank_image_is_empty(call):
    out = call("ocr", {"image": b64(Image.new("L", (200, 100), 255))})
    assert out == {"text": "", "boxes": [], "width": 200, "height": 100, "confidence": 0.0}


@pytest.mark.parametrize("lang", ["xyz", "eng+xyz", "osd", "eng;rm -rf /", "../eng", "", "+", 5, None])
def test_ocr_refuses_unknown_languages(call, lang):
    with pytest.raises(ImplError) as caught:
        call("ocr", {"image": b64(Image.new("L", (20, 20), 255))}, {"lang": lang})
    assert (caught.value.code, caught.value.field) == ("bad_params", "params.lang")


def test_ocr_names_the_installed_languages_when_refusing(call):
    with pytest.raises(ImplError) as caught:
        call("ocr", {"image": b64(Image.new("L", (20, 20), 255))}, {"lang": "deu"})
    assert "eng" in caught.value.reason and "tesseract-ocr-deu" in caught.value.reason
    assert {"eng", "rus"} <= tesseract.languages()


def test_ocr_reads_with_one_language_and_a_psm(call, page):
    image, boxes = page
    out = call("ocr", {"image": b64(image), "roi": roi_around(boxes["neira"])}, {"lang": "eng", "psm": 7})
    assert out["text"] == "Neira 42"


@pytest.mark.parametrize(
    ("input_roi", "param_roi", "code", "field"),
    [
        ({"x": 0, "y": 0, "width": 0, "height": 10}, None, "bad_input", "input.roi.width"),
        ({"x": 500, "y": 0, "width": 10, "height": 10}, None, "bad_input", "input.roi"),
        ({"x": -50, "y": -50, "width": 10, "height": 10}, None, "bad_input", "input.roi"),
        ({"x": 0, "y": 0, "width": 10}, None, "bad_input", "input.roi.height"),
        ({"x": 0.5, "y": 0, "width": 10, "height": 10}, None, "bad_input", "input.roi.x"),
        ("everything", None, "bad_input", "input.roi"),
        (None, {"x": 0, "y": 0}, "bad_params", "params.roi"),
        (None, [0, 0, 10, 10], "bad_params", "params.roi"),
        (None, {"x": "0", "y": 0, "width": 10, "height": 10}, "bad_params", "params.roi.x"),
        (None, {"x": 0, "y": 0, "width": 10, "height": -1}, "bad_params", "params.roi.height"),
    ],
)
def test_ocr_refuses_bad_rois(call, input_roi, param_roi, code, field):
    input = {"image": b64(Image.new("L", (100, 50), 255))}
    if input_roi is not None:
        input["roi"] = input_roi
    with pytest.raises(ImplError) as caught:
        call("ocr", input, {"roi": param_roi})
    assert (caught.value.code, caught.value.field) == (code, field)


@pytest.mark.parametrize("psm", [0, 2, 14, -1, "7", True, 3.5])
def test_ocr_refuses_bad_psm(call, psm):
    with pytest.raises(ImplError) as caught:
        call("ocr", {"image": b64(Image.new("L", (20, 20), 255))}, {"psm": psm})
    assert (caught.value.code, caught.value.field) == ("bad_params", "params.psm")


def test_ocr_bad_image_is_bad_input(call):
    assert bad_input(call, "ocr", {"image": "not an image"}).field == "input.image"


def test_missing_tesseract_is_unavailable_and_names_the_package(call, monkeypatch):
    monkeypatch.setattr(tesseract.shutil, "which", lambda name: None)
    with pytest.raises(ImplError) as caught:
        call("ocr", {"image": b64(Image.new("L", (20, 20), 255))})
    assert caught.value.code == "unavailable"
    assert "tesseract-ocr" in caught.value.reason


def test_tesseract_past_its_deadline_is_a_timeout(call, monkeypatch):
    tesseract.languages()  # cached, so only the recognition itself runs against the deadline
    monkeypatch.setattr(tesseract, "TESSERACT_TIMEOUT_S", 1e-4)
    with pytest.raises(ImplError) as caught:
        call("ocr", {"image": b64(Image.new("L", (200, 100), 255))})
    assert caught.value.code == "timeout"


def test_parse_tsv_keeps_word_rows():
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "1\t1\t0\t0\t0\t0\t0\t0\t900\t300\t-1\t\n"
        "5\t1\t1\t1\t1\t1\t45\t45\t109\t50\t91.5\tNeira\n"
        "5\t1\t1\t1\t1\t2\t191\t49\t49\t36\t-1\t \n"
        "5\t1\t1\t1\t1\t3\tx\t49\t49\t36\t90\tbroken\n"
        "5\t1\t2\t1\t1\t1\t45\t180\t178\t45\t96.7\tПривет\n"
    )
    words = tesseract.parse_tsv(tsv)
    assert [(w.text, w.left, w.confidence, w.line) for w in words] == [
        ("Neira", 45, 91.5, (1, 1, 1, 1)),
        ("Привет", 45, 96.7, (1, 2, 1, 1)),
    ]
