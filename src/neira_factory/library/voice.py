"""Voice implementations on espeak-ng: ``text_to_phonemes`` and ``speak_adapter``.

Both take ``{text}`` or ``{normalized}`` (what ``text_normalize`` produces;
``text`` wins when both are there) and an optional ``lang``; without ``lang``
the script decides (Cyrillic → ``ru``, otherwise ``en``). The text must hold
a letter or digit and at most ``MAX_SPEECH_CHARS`` characters.

* ``text_to_phonemes`` → ``{phonemes, lang, text}``: IPA from
  ``espeak-ng -q --ipa -v LANG``.
* ``speak_adapter`` (side effects) → ``{request_id, file, audio_base64, text,
  phonemes}`` as Neira's speak adapter answers: espeak-ng renders a WAV,
  returned base64-encoded. With ``ctx.side_effects`` it is also written to
  ``<output_dir>/<request_id>.wav`` (atomically, via a temporary file) and
  ``file`` is that absolute path; in a dry-run nothing is written and ``file``
  is null. ``phonemes`` from the input are passed through, otherwise
  computed. Params ``speed`` (words per minute) and ``pitch`` shape the voice.
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
import uuid
from pathlib import Path

from neira_factory.library import espeak
from neira_factory.library.core import About, ImplContext, ImplError, define
from neira_factory.library.language import resolve_lang

MAX_SPEECH_CHARS = 5_000
_TEXT_KEYS = ("text", "normalized")
_SPOKEN = {"type": "string", "maxLength": MAX_SPEECH_CHARS}

SPEECH_INPUT = {
    "type": "object",
    "properties": {"text": _SPOKEN, "normalized": _SPOKEN, "lang": {"type": "string"}},
    "anyOf": [{"required": ["text"]}, {"required": ["normalized"]}],
}


def _speech(input: dict) -> tuple[str, str]:
    """The text to say and its language."""
    text = next(input[key] for key in _TEXT_KEYS if key in input).strip()  # the schema wants one
    if not re.search(r"\w", text):
        raise ImplError("bad_input", "text has nothing to pronounce", "input.text")
    return text, resolve_lang(input.get("lang"), text)


def _phonemes(input: dict, params: dict, ctx: ImplContext) -> dict:
    text, lang = _speech(input)
    return {"phonemes": espeak.ipa(text, lang), "lang": lang, "text": text}


def _speak(input: dict, params: dict, ctx: ImplContext) -> dict:
    text, lang = _speech(input)
    phonemes = input.get("phonemes") or espeak.ipa(text, lang)
    audio = espeak.wav(text, lang, params["speed"], params["pitch"])
    request_id = uuid.uuid4().hex
    path = _write(ctx.resolved_output_dir(), f"{request_id}.wav", audio) if ctx.side_effects else None
    return {
        "request_id": request_id,
        "file": path,
        "audio_base64": base64.b64encode(audio).decode("ascii"),
        "text": text,
        "phonemes": phonemes,
    }


def _write(directory: Path, name: str, data: bytes) -> str:
    """Write ``data`` to ``directory/name`` whole or not at all; its absolute path."""
    target = (directory / name).absolute()
    temporary = None
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, suffix=".part")
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, target)
    except OSError as error:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
        raise ImplError("failed", f"could not write {name} to {directory}: {error}") from error
    return str(target)


IMPLS = (
    define(
        "text_to_phonemes",
        _phonemes,
        input_schema=SPEECH_INPUT,
        output_schema={
            "type": "object",
            "properties": {"phonemes": {"type": "string"}, "lang": {"type": "string"}, "text": {"type": "string"}},
            "required": ["phonemes", "lang", "text"],
        },
        description="IPA phonemes of a text from espeak-ng (ru, en and espeak-ng's other languages).",
        about=About(
            ru="Превращает текст в фонемы МФА (фонетическая транскрипция, произношение) с помощью espeak-ng: "
               "русский, английский и другие языки.",
            en="Turns a text into IPA phonemes (a phonetic transcription, its pronunciation) with espeak-ng: "
               "Russian, English and other languages.",
            words=("фонема", "фонемы", "фонемизация", "транскрипция", "фонетическая транскрипция", "мфа",
                   "произношение", "графема", "phoneme", "phonemes", "phonemize", "ipa", "transcription",
                   "transcribe", "phonetic", "pronunciation", "grapheme to phoneme", "g2p"),
            example={"text": "привет"},
        ),
    ),
    define(
        "speak_adapter",
        _speak,
        input_schema={
            **SPEECH_INPUT,
            "properties": {**SPEECH_INPUT["properties"], "phonemes": {"type": "string"}},
        },
        output_schema={
            "type": "object",
            "properties": {
                "request_id": {"type": "string"},
                "file": {"type": ["string", "null"]},
                "audio_base64": {"type": "string"},
                "text": {"type": "string"},
                "phonemes": {"type": "string"},
            },
            "required": ["request_id", "file", "audio_base64", "text", "phonemes"],
        },
        description="Speaks a text with espeak-ng: a WAV as base64, written to output_dir unless in a dry-run.",
        side_effects=True,
        params={
            "speed": {"value": 175, "min": 80, "max": 450, "step": 5, "tunable": False},
            "pitch": {"value": 50, "min": 0, "max": 99, "step": 1, "tunable": False},
        },
        about=About(
            ru="Озвучивает текст вслух синтезатором речи espeak-ng: звук в файле WAV, скорость и высота голоса "
               "настраиваются.",
            en="Speaks a text aloud with the espeak-ng speech synthesiser: the sound as a WAV file, with "
               "adjustable speed and pitch.",
            words=("озвучить", "озвучивать", "озвучка", "синтез речи", "синтезатор речи", "синтезировать",
                   "произнести", "произносить", "проговорить", "вслух", "читать вслух", "голос", "звук", "аудио",
                   "wav", "tts", "speak", "speaks", "say", "aloud", "read aloud", "text to speech",
                   "speech synthesis", "synthesize", "synthesise", "voice", "audio", "sound"),
            example={"text": "привет"},
        ),
    ),
)
