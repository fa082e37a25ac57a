"""Implementations stop themselves at the call's deadline (domain/deadlines): the watchdog abandons their
worker at the hard timeout but cannot stop it, so loops, subprocesses and heavy native work must."""

from __future__ import annotations

import base64
import io
import threading
import time

import pytest
from PIL import Image

from neira_factory.domain import deadlines
from neira_factory.library import ImplError, core

pytestmark = pytest.mark.usefixtures("quiet_gc")  # tests/conftest.py: timed bounds

# phrases that almost match at every position: each position tries them all
SLOW_KEYWORDS = {"spam": ["a " * 15 + f"b{i}" for i in range(1_000)]}


def within(seconds: float):
    return deadlines.scope(time.monotonic() + seconds)


def png(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def test_a_loop_over_untrusted_text_stops_at_the_deadline(call):
    text = "a " * 49_000
    started = time.monotonic()
    with within(0.2), pytest.raises(ImplError) as caught:
        call("keyword_classify", {"text": text}, {"keywords": SLOW_KEYWORDS})
    assert caught.value.code == "timeout"
    assert time.monotonic() - started < 1.5


def test_without_a_deadline_the_same_call_finishes(call):
    out = call("keyword_classify", {"text": "a " * 20 + "b7"}, {"keywords": SLOW_KEYWORDS})
    assert out["hits"] == {"spam": 1}


def test_long_keyword_phrases_and_repeats_are_bounded(call):
    with pytest.raises(ImplError) as caught:
        call("keyword_classify", {"text": "a"}, {"keywords": {"x": ["a " * 20_000]}})
    assert caught.value.code == "bad_params" and caught.value.field == "params.keywords"
    out = call("keyword_classify", {"text": "win"}, {"keywords": {"spam": ["win"] * 1_000}})
    assert out["hits"] == {"spam": 1}  # one keyword listed a thousand times is one keyword


def test_a_subprocess_gets_what_is_left_of_the_deadline(call):
    started = time.monotonic()
    with within(0.3), pytest.raises(ImplError) as caught:
        call("ocr", {"image": png(3000, 3000)})
    assert caught.value.code == "timeout", caught.value.reason
    assert time.monotonic() - started < 2.0  # not tesseract's own 20 s


def test_no_native_step_starts_after_the_deadline(call):
    image = png(64, 64)
    with deadlines.scope(time.monotonic() - 1), pytest.raises(ImplError) as caught:
        call("image_grayscale", {"image": image})
    assert caught.value.code == "timeout"


def test_heavy_work_waits_for_a_slot_only_until_its_deadline(call):
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with core.heavy_slot("test"):
            taken.set()
            release.wait(10)

    holders = [threading.Thread(target=hold) for _ in range(core.HEAVY_SLOTS)]
    for holder in holders:
        holder.start()
    try:
        assert taken.wait(5)
        while core._heavy._value:  # every slot held
            time.sleep(0.01)
        started = time.monotonic()
        with within(0.2), pytest.raises(ImplError) as caught:
            call("image_grayscale", {"image": png(8, 8)})
        assert caught.value.code == "timeout" and "slots" in caught.value.reason
        assert time.monotonic() - started < 1.0
    finally:
        release.set()
        for holder in holders:
            holder.join()
    assert call("image_grayscale", {"image": png(8, 8)})["width"] == 8  # a free slot: it runs
