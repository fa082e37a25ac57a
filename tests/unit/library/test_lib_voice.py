"""text_to_phonemes and speak_adapter on espeak-ng."""

from __future__ import annotations

import base64
import io
import shutil
import wave
from pathlib import Path

import pytest

from neira_factory.library import ImplContext, ImplError, espeak

IPA_ONLY = set("ˈˌːʲəɪʊɐɑɒɔɛæʌɹθðŋʃʒ")


def _wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as audio:
        return audio.getnframes() / audio.getframerate()


@pytest.mark.parametrize(
    ("input", "lang", "text"),
    [
        ({"text": "Привет, Нейра"}, "ru", "Привет, Нейра"),
        ({"normalized": "привет нейра сорок два"}, "ru", "привет нейра сорок два"),
        ({"text": " hello neira forty-two "}, "en", "hello neira forty-two"),
        ({"text": "молоко", "lang": "en-us"}, "en-us", "молоко"),
    ],
)
def test_phonemes_are_ipa(call, input, lang, text):
    out = call("text_to_phonemes", input)
    assert out["lang"] == lang
    assert out["text"] == text
    assert out["phonemes"].strip()
    assert set(out["phonemes"]) & IPA_ONLY


def test_phonemes_differ_by_language(call):
    ru = call("text_to_phonemes", {"text": "нейра"})["phonemes"]
    en = call("text_to_phonemes", {"text": "neira"})["phonemes"]
    assert "ʲ" in ru
    assert ru != en


def test_text_that_looks_like_an_option_is_just_text(call, tmp_path):
    target = tmp_path / "x.wav"
    out = call("text_to_phonemes", {"text": f"--version -w {target}"})
    assert "eSpeak" not in out["phonemes"]
    assert not target.exists()


@pytest.mark.parametrize(
    ("input", "field"),
    [
        ({}, "input"),
        ({"text": 1}, "input.text"),
        ({"text": "!!! ..."}, "input.text"),
        ({"text": "hi", "lang": "en; rm -rf /"}, "input.lang"),
        ({"text": "x" * 6000}, "input.text"),
    ],
)
def test_phonemes_bad_input(call, input, field):
    with pytest.raises(ImplError) as caught:
        call("text_to_phonemes", input)
    assert caught.value.code == "bad_input"
    assert caught.value.field == field


def test_unknown_espeak_voice_is_bad_input(call):
    with pytest.raises(ImplError) as caught:
        call("text_to_phonemes", {"text": "hi", "lang": "xx"})
    assert caught.value.code == "bad_input"


def test_missing_espeak_is_unavailable(call, monkeypatch):
    monkeypatch.setattr(espeak.shutil, "which", lambda name: None)
    with pytest.raises(ImplError) as caught:
        call("text_to_phonemes", {"text": "hi"})
    assert caught.value.code == "unavailable"


def test_speak_dry_run_writes_nothing(call, tmp_path):
    out = call(
        "speak_adapter", {"normalized": "привет нейра"}, ctx=ImplContext(side_effects=False, output_dir=tmp_path)
    )
    assert out["file"] is None
    assert list(tmp_path.iterdir()) == []
    assert _wav_seconds(base64.b64decode(out["audio_base64"])) > 0.3
    assert out["text"] == "привет нейра"
    assert "ʲ" in out["phonemes"]
    assert len(out["request_id"]) == 32
    int(out["request_id"], 16)


def test_speak_writes_the_wav_it_returns(call, tmp_path):
    target = tmp_path / "out"
    out = call("speak_adapter", {"text": "Hello Neira"}, ctx=ImplContext(side_effects=True, output_dir=target))
    path = Path(out["file"])
    assert path == (target / f"{out['request_id']}.wav").absolute()
    assert [entry.name for entry in target.iterdir()] == [path.name]
    data = path.read_bytes()
    assert data == base64.b64decode(out["audio_base64"])
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    with wave.open(str(path)) as audio:
        assert audio.getnchannels() == 1
        assert audio.getsampwidth() == 2
        assert audio.getnframes() * 2 == len(data) - 44


def test_speak_passes_given_phonemes_and_makes_new_ids(call):
    first = call("speak_adapter", {"text": "hi", "phonemes": "hˈaɪ"})
    second = call("speak_adapter", {"text": "hi"})
    assert first["phonemes"] == "hˈaɪ"
    assert second["phonemes"]
    assert first["request_id"] != second["request_id"]


def test_speed_param_changes_the_duration(call):
    text = {"text": "the quick brown fox jumps over the lazy dog"}
    slow = _wav_seconds(base64.b64decode(call("speak_adapter", text, {"speed": 100})["audio_base64"]))
    fast = _wav_seconds(base64.b64decode(call("speak_adapter", text, {"speed": 300})["audio_base64"]))
    assert slow > fast * 1.5


def test_speak_rejects_out_of_range_params(call):
    with pytest.raises(ImplError) as caught:
        call("speak_adapter", {"text": "hi"}, {"pitch": 500})
    assert caught.value.code == "bad_params"


def test_unwritable_output_dir_is_failed(call, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ImplError) as caught:
        call("speak_adapter", {"text": "hi"}, ctx=ImplContext(output_dir=blocker / "sub"))
    assert caught.value.code == "failed"


def test_truncated_wav_stream_is_failed():
    with pytest.raises(ImplError) as caught:
        espeak._fix_sizes(b"RIFF\xff\xff\xff\x7fWAVEfmt ")
    assert caught.value.code == "failed"
