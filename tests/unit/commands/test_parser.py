"""parse(): ten and more phrasings of every intent in Russian and in English, each
asserting the exact Intent (action, target, name, version, options, steps, state, lang)."""
from __future__ import annotations

import dataclasses

import pytest

from neira_factory.commands import Intent, NotUnderstood, Vocabulary, parse


def E(action, target, name, version=None, options=(), steps=(), state=None):
    return {"action": action, "target": target, "name": name, "version": version,
            "options": tuple(options), "steps": tuple(steps), "state": state}


VOICE_STEPS = ("text_normalize", "text_to_phonemes", "speak_adapter")

# --- the seed's three commands ---------------------------------------------------

SEED = [
    ("создай голосовой орган v1", E("create", "organ", "voice", 1)),
    ("обнови зрение до v2 (grayscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("собери speak-pipeline normalize→phonemes→adapter",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
]

# --- create -------------------------------------------------------------------------

CREATE_RU = [
    ("создай голосовой орган v1", E("create", "organ", "voice", 1)),
    ("Создай голосовой орган версии 1", E("create", "organ", "voice", 1)),
    ("сделай орган зрения v2", E("create", "organ", "vision", 2)),
    ("создай орган зрения", E("create", "organ", "vision")),
    ("пожалуйста, создай новый голосовой орган v1", E("create", "organ", "voice", 1)),
    ("Создайте орган слуха", E("create", "organ", "hearing")),
    ("построй «голосовой» орган первой версии", E("create", "organ", "voice", 1)),
    ("сгенерируй орган голоса v1.", E("create", "organ", "voice", 1)),
    ("добавь зрительный орган версии 2", E("create", "organ", "vision", 2)),
    ("создай-ка орган зрения v2 с распознаванием текста", E("create", "organ", "vision", 2, ("ocr",))),
    ("создай узел analysis.echo.v1", E("create", "node", "analysis.echo.v1", 1)),
    ("создай ноду analysis.text_normalize.v2", E("create", "node", "analysis.text_normalize.v2", 2)),
    ("создай узел нормализации", E("create", "node", "analysis.text_normalize.v2", 2)),
    ("СОЗДАЙ ГОЛОСОВОЙ ОРГАН V1!!!", E("create", "organ", "voice", 1)),
    ("будь добр, создай голосовой орган v1", E("create", "organ", "voice", 1)),
]

CREATE_EN = [
    ("create voice organ v1", E("create", "organ", "voice", 1)),
    ("build the vision organ", E("create", "organ", "vision")),
    ("Create the voice organ, version 1", E("create", "organ", "voice", 1)),
    ("please create a new hearing organ", E("create", "organ", "hearing")),
    ("make vision organ v2", E("create", "organ", "vision", 2)),
    ("generate organ voice v1", E("create", "organ", "voice", 1)),
    ("create node analysis.echo.v1", E("create", "node", "analysis.echo.v1", 1)),
    ("Create a node analysis.reverse.v2", E("create", "node", "analysis.reverse.v2", 2)),
    ("build a speech organ version 1", E("create", "organ", "voice", 1)),
    ("create the visual organ v2 with ocr", E("create", "organ", "vision", 2, ("ocr",))),
    ("could you create the vision organ, second version?", E("create", "organ", "vision", 2)),
    ("create organ «voice» v1", E("create", "organ", "voice", 1)),
    ("create the speech organ", E("create", "organ", "voice")),
]

# --- update ---------------------------------------------------------------------------

UPDATE_RU = [
    ("обнови зрение до v2 (grayscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("обнови орган зрения до версии 2 (оттенки серого)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("Обнови голосовой орган до v2", E("update", "organ", "voice", 2)),
    ("улучши зрение до v2 в оттенках серого", E("update", "organ", "vision", 2, ("grayscale",))),
    ("обнови зрение до v2 с оттенками серого и распознаванием текста",
     E("update", "organ", "vision", 2, ("grayscale", "ocr"))),
    ("подними орган зрения до второй версии", E("update", "organ", "vision", 2)),
    ("обнови зрение до v2 (серый, уменьшение)", E("update", "organ", "vision", 2, ("grayscale", "downscale"))),
    ("пожалуйста, обнови зрение до версии 2 (чёрно-белое)", E("update", "organ", "vision", 2, ("binarize",))),
    ("обнови зрение с v1 до v2 (grayscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("обнови узел analysis.echo.v1 до v2", E("update", "node", "analysis.echo.v1", 2)),
    ("обнови органа зрения до версии 2", E("update", "organ", "vision", 2)),
]

UPDATE_EN = [
    ("upgrade vision to v2 (grayscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("update the vision organ to v2 with grayscale", E("update", "organ", "vision", 2, ("grayscale",))),
    ("update vision to version 2 (greyscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("upgrade the vision organ to v2 (gray, ocr)", E("update", "organ", "vision", 2, ("grayscale", "ocr"))),
    ("please update voice organ to v2", E("update", "organ", "voice", 2)),
    ("bump vision to v2 with black and white", E("update", "organ", "vision", 2, ("binarize",))),
    ("update organ vision from v1 to v2 (grayscale)", E("update", "organ", "vision", 2, ("grayscale",))),
    ("upgrade vision to the second version with shades of gray",
     E("update", "organ", "vision", 2, ("grayscale",))),
    ("Update «vision» to v2 (downscale)", E("update", "organ", "vision", 2, ("downscale",))),
    ("update node analysis.echo.v1 to v2", E("update", "node", "analysis.echo.v1", 2)),
    ("upgrade visual organ to v2 using grayscale and text recognition",
     E("update", "organ", "vision", 2, ("grayscale", "ocr"))),
]

# --- pipeline ---------------------------------------------------------------------------

PIPELINE_RU = [
    ("собери speak-pipeline normalize→phonemes→adapter", E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("собери speak-pipeline normalize->phonemes->adapter", E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("собери speak-pipeline normalize => phonemes => adapter",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("собери нормализация → фонемы → адаптер",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("собери конвейер speak-pipeline: нормализация, фонемы, адаптер",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("собери конвейер из нормализации, затем фонем, затем адаптера",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("собери цепочку нормализация и потом фонемы и потом адаптер",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("создай конвейер reader: серый → ocr", E("pipeline", "organ", "reader", steps=("image_grayscale", "ocr"))),
    ("собери зрение: оттенки серого → уменьшение → распознавание",
     E("pipeline", "organ", "vision", steps=("image_grayscale", "image_downscale", "ocr"))),
    ("собери speak-pipeline v2 normalize→phonemes→adapter",
     E("pipeline", "organ", "speak-pipeline", 2, steps=VOICE_STEPS)),
    ("собери пайплайн нормализуй → фонемы",
     E("pipeline", "organ", "normalize-phonemes", steps=("text_normalize", "text_to_phonemes"))),
    ("собери конвейер из нормализации, фонем и адаптера",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
]

PIPELINE_EN = [
    ("assemble speak-pipeline normalize→phonemes→adapter", E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("build speak-pipeline normalize -> phonemes -> adapter",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("create a pipeline normalize, phonemes, adapter",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("chain normalize then phonemes then adapter",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("build a pipeline called reader: grayscale => ocr",
     E("pipeline", "organ", "reader", steps=("image_grayscale", "ocr"))),
    ("assemble pipeline speak-pipeline from normalize and then phonemes and then adapter",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("compose grayscale → downscale → ocr",
     E("pipeline", "organ", "grayscale-downscale-ocr", steps=("image_grayscale", "image_downscale", "ocr"))),
    ("please build speak-pipeline: text normalization -> text to phonemes -> speak adapter",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("assemble speak-pipeline v2: normalize → phonemes → adapter",
     E("pipeline", "organ", "speak-pipeline", 2, steps=VOICE_STEPS)),
    ("create pipeline my-reader binarize, ocr", E("pipeline", "organ", "my-reader", steps=("image_binarize", "ocr"))),
    ("make a chain normalize→phonemes",
     E("pipeline", "organ", "normalize-phonemes", steps=("text_normalize", "text_to_phonemes"))),
]

# --- approve ------------------------------------------------------------------------------

APPROVE_RU = [
    ("одобри analysis.echo.v1", E("approve", "node", "analysis.echo.v1", 1)),
    ("одобри узел analysis.echo.v1", E("approve", "node", "analysis.echo.v1", 1)),
    ("Одобри голосовой орган", E("approve", "organ", "voice")),
    ("утверди орган зрения v2", E("approve", "organ", "vision", 2)),
    ("подтверди ноду analysis.text_normalize.v1", E("approve", "node", "analysis.text_normalize.v1", 1)),
    ("прими голосовой орган версии 1", E("approve", "organ", "voice", 1)),
    ("одобри, пожалуйста, узел нормализации", E("approve", "node", "analysis.text_normalize.v1", 1)),
    ("одобри «analysis.echo.v1»", E("approve", "node", "analysis.echo.v1", 1)),
    ("одобрите орган слуха", E("approve", "organ", "hearing")),
    ("согласуй зрение v2", E("approve", "organ", "vision", 2)),
    ("одобри версию 1 голосового органа", E("approve", "organ", "voice", 1)),
]

APPROVE_EN = [
    ("approve organ voice", E("approve", "organ", "voice")),
    ("approve analysis.echo.v1", E("approve", "node", "analysis.echo.v1", 1)),
    ("Approve the voice organ", E("approve", "organ", "voice")),
    ("accept node analysis.echo.v1", E("approve", "node", "analysis.echo.v1", 1)),
    ("please approve vision v2", E("approve", "organ", "vision", 2)),
    ("promote the vision organ to v2", E("approve", "organ", "vision", 2)),
    ("approve node text_normalize", E("approve", "node", "analysis.text_normalize.v1", 1)),
    ("confirm organ hearing", E("approve", "organ", "hearing")),
    ("approve the speech organ v1", E("approve", "organ", "voice", 1)),
    ("approve analysis.keyword_classify.v1 please", E("approve", "node", "analysis.keyword_classify.v1", 1)),
    ("sign off the vision organ", E("approve", "organ", "vision")),
    ("approve node echo", E("approve", "node", "analysis.echo.v1", 1)),
]

# --- rollback -------------------------------------------------------------------------------

ROLLBACK_RU = [
    ("откати голосовой орган", E("rollback", "organ", "voice")),
    ("откати зрение v2", E("rollback", "organ", "vision", 2)),
    ("откати узел analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
    ("сделай откат голосового органа", E("rollback", "organ", "voice")),
    ("верни орган зрения назад", E("rollback", "organ", "vision")),
    ("откати орган зрения до версии 1", E("rollback", "organ", "vision", 1)),
    ("откатите ноду analysis.text_normalize.v1", E("rollback", "node", "analysis.text_normalize.v1", 1)),
    ("пожалуйста, откати голосовой орган v1", E("rollback", "organ", "voice", 1)),
    ("откат узла analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
    ("верни голос на v1", E("rollback", "organ", "voice", 1)),
    ("откати слух", E("rollback", "organ", "hearing")),
    ("откат органа зрения", E("rollback", "organ", "vision")),
]

ROLLBACK_EN = [
    ("roll back vision v2", E("rollback", "organ", "vision", 2)),
    ("rollback the voice organ", E("rollback", "organ", "voice")),
    ("revert node analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
    ("roll back organ vision to v1", E("rollback", "organ", "vision", 1)),
    ("undo the vision organ v2", E("rollback", "organ", "vision", 2)),
    ("please roll back analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
    ("rollback hearing", E("rollback", "organ", "hearing")),
    ("roll-back the speech organ", E("rollback", "organ", "voice")),
    ("revert vision to version 1", E("rollback", "organ", "vision", 1)),
    ("do a rollback of the vision organ", E("rollback", "organ", "vision")),
    ("make a rollback of node analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
]

# --- disable a node or an organ -------------------------------------------------------------

DISABLE_RU = [
    ("отключи узел analysis.echo.v1", E("disable", "node", "analysis.echo.v1", 1)),
    ("отключи голосовой орган", E("disable", "organ", "voice")),
    ("выключи орган зрения v2", E("disable", "organ", "vision", 2)),
    ("деактивируй ноду analysis.reverse.v1", E("disable", "node", "analysis.reverse.v1", 1)),
    ("останови узел analysis.echo.v1", E("disable", "node", "analysis.echo.v1", 1)),
    ("отключи analysis.text_normalize.v1", E("disable", "node", "analysis.text_normalize.v1", 1)),
    ("выключи голосовой орган, пожалуйста", E("disable", "organ", "voice")),
    ("отключите орган слуха", E("disable", "organ", "hearing")),
    ("отключи зрение версии 2", E("disable", "organ", "vision", 2)),
    ("вырубить узел analysis.echo.v1", E("disable", "node", "analysis.echo.v1", 1)),
]

DISABLE_EN = [
    ("disable node analysis.echo.v1", E("disable", "node", "analysis.echo.v1", 1)),
    ("disable the voice organ", E("disable", "organ", "voice")),
    ("turn off the vision organ v2", E("disable", "organ", "vision", 2)),
    ("deactivate analysis.reverse.v1", E("disable", "node", "analysis.reverse.v1", 1)),
    ("switch off node analysis.echo.v1", E("disable", "node", "analysis.echo.v1", 1)),
    ("shut down the hearing organ", E("disable", "organ", "hearing")),
    ("please disable vision", E("disable", "organ", "vision")),
    ("stop node analysis.text_normalize.v1", E("disable", "node", "analysis.text_normalize.v1", 1)),
    ("disable organ speech", E("disable", "organ", "voice")),
    ("disable analysis.echo.v1 now", E("disable", "node", "analysis.echo.v1", 1)),
]

# --- capabilities: unlock → experimental, enable → stable, lock → locked, disable → disabled ---


def C(name, state):
    return E("capability", "capability", name, state=state)


CAPABILITY_RU = [
    ("Разблокируй factory_script", C("factory_script", "experimental")),
    ("Включи organs_builder", C("organs_builder", "stable")),
    ("Выключи organ_voice", C("organ_voice", "disabled")),
    ("заблокируй factory_wasm", C("factory_wasm", "locked")),
    ("выключи factory_script", C("factory_script", "disabled")),
    ("разблокируй способность factory_wasm", C("factory_wasm", "experimental")),
    ("включи фабрику скриптов", C("factory_script", "stable")),
    ("заблокируй фабрику wasm", C("factory_wasm", "locked")),
    ("включи сборщик органов", C("organs_builder", "stable")),
    ("отключи способность self_edit", C("self_edit", "disabled")),
    ("разреши factory_adapter", C("factory_adapter", "experimental")),
    ("включи голосовой орган", C("organ_voice", "stable")),
    ("включи орган зрения", C("organ_vision_readonly", "stable")),
    ("закрой factory_wasm", C("factory_wasm", "locked")),
    ("выключи фабрику скриптов", C("factory_script", "disabled")),
    ("активируй organ_vision_readonly", C("organ_vision_readonly", "stable")),
]

CAPABILITY_EN = [
    ("unlock factory_script", C("factory_script", "experimental")),
    ("enable organs_builder", C("organs_builder", "stable")),
    ("lock the wasm factory", C("factory_wasm", "locked")),
    ("disable factory_script", C("factory_script", "disabled")),
    ("turn on organs_builder", C("organs_builder", "stable")),
    ("unlock the script factory", C("factory_script", "experimental")),
    ("activate organ_voice", C("organ_voice", "stable")),
    ("lock factory_wasm please", C("factory_wasm", "locked")),
    ("disable the capability factory_adapter", C("factory_adapter", "disabled")),
    ("enable the organs builder", C("organs_builder", "stable")),
    ("switch off self_edit", C("self_edit", "disabled")),
    ("allow the adapter factory", C("factory_adapter", "experimental")),
    ("enable the voice organ", C("organ_voice", "stable")),
    ("disable the wasm factory", C("factory_wasm", "disabled")),
]

# --- status ------------------------------------------------------------------------------------

STATUS_RU = [
    ("Покажи статус способностей", E("status", "capabilities", None)),
    ("статус органа voice", E("status", "organ", "voice")),
    ("статус голосового органа", E("status", "organ", "voice")),
    ("покажи органы", E("status", "organs", None)),
    ("покажи узлы", E("status", "nodes", None)),
    ("статус", E("status", None, None)),
    ("покажи статус узла analysis.echo.v1", E("status", "node", "analysis.echo.v1", 1)),
    ("выведи список способностей", E("status", "capabilities", None)),
    ("какой статус у зрения v2", E("status", "organ", "vision", 2)),
    ("покажи статус factory_script", E("status", "capability", "factory_script")),
    ("перечисли органы", E("status", "organs", None)),
    ("покажи состояние органа зрения", E("status", "organ", "vision")),
    ("покажи все способности", E("status", "capabilities", None)),
    ("покажи список органов", E("status", "organs", None)),
    ("состояние узлов", E("status", "nodes", None)),
]

STATUS_EN = [
    ("show capabilities", E("status", "capabilities", None)),
    ("what is the status of the vision organ", E("status", "organ", "vision")),
    ("list organs", E("status", "organs", None)),
    ("status", E("status", None, None)),
    ("show the status of organ voice", E("status", "organ", "voice")),
    ("list nodes", E("status", "nodes", None)),
    ("show node analysis.echo.v1", E("status", "node", "analysis.echo.v1", 1)),
    ("status of factory_script", E("status", "capability", "factory_script")),
    ("display all capabilities", E("status", "capabilities", None)),
    ("what's the state of the speech organ", E("status", "organ", "voice")),
    ("show me the organs", E("status", "organs", None)),
    ("check vision v2", E("status", "organ", "vision", 2)),
    ("show the wasm factory", E("status", "capability", "factory_wasm")),
]

# --- train --------------------------------------------------------------------------------------

KC = "analysis.keyword_classify.v1"

TRAIN_RU = [
    ("обучи analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("натренируй классификатор", E("train", "node", KC, 1)),
    ("обучи узел analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("обучи классификатор ключевых слов", E("train", "node", KC, 1)),
    ("дообучи ноду analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("натренируй узел классификации", E("train", "node", KC, 1)),
    ("запусти обучение узла analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("обучи, пожалуйста, analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("тренируй классификатор", E("train", "node", KC, 1)),
    ("обучи узел нормализации", E("train", "node", "analysis.text_normalize.v1", 1)),
    ("обучи keyword_classify v1", E("train", "node", KC, 1)),
]

TRAIN_EN = [
    ("train keyword_classify", E("train", "node", KC, 1)),
    ("train analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("train the classifier", E("train", "node", KC, 1)),
    ("tune node analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("retrain the keyword classifier", E("train", "node", KC, 1)),
    ("fine-tune keyword_classify", E("train", "node", KC, 1)),
    ("please train node keyword_classify v1", E("train", "node", KC, 1)),
    ("train the normalizer", E("train", "node", "analysis.text_normalize.v1", 1)),
    ("train classify", E("train", "node", KC, 1)),
    ("fine tune the classifier node", E("train", "node", KC, 1)),
]

# --- inflections (pymorphy3), mixed languages, typos -------------------------------------------

INFLECTIONS = [  # all Russian
    ("статус голосового органа", E("status", "organ", "voice")),
    ("статус голосовых органов", E("status", "organ", "voice")),
    ("обнови орган со зрением до v2", E("update", "organ", "vision", 2)),
    ("покажи органы", E("status", "organs", None)),
    ("покажи статус способностей", E("status", "capabilities", None)),
    ("покажи статус узлов", E("status", "nodes", None)),
    ("откат узла analysis.echo.v1", E("rollback", "node", "analysis.echo.v1", 1)),
    ("обучение узла analysis.keyword_classify.v1", E("train", "node", KC, 1)),
    ("откати органы зрения", E("rollback", "organ", "vision")),
    ("создайте голосовые органы v1", E("create", "organ", "voice", 1)),
    ("улучшите зрение до v2 в оттенках серого", E("update", "organ", "vision", 2, ("grayscale",))),
    ("собери конвейер из нормализации, фонем и адаптера",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
]

MIXED = [  # (text, lang, expected)
    ("создай voice орган v1", "ru", E("create", "organ", "voice", 1)),
    ("обнови vision до v2", "ru", E("update", "organ", "vision", 2)),
    ("обнови vision до v2 (grayscale)", "ru", E("update", "organ", "vision", 2, ("grayscale",))),
    ("create голосовой organ v1", "en", E("create", "organ", "voice", 1)),
    ("одобри organ voice", "ru", E("approve", "organ", "voice")),
    ("approve голосовой орган", "en", E("approve", "organ", "voice")),
    ("покажи capabilities", "ru", E("status", "capabilities", None)),
    ("unlock фабрику скриптов", "en", C("factory_script", "experimental")),
    ("собери speak-pipeline нормализация → phonemes → адаптер", "ru",
     E("pipeline", "organ", "speak-pipeline", steps=VOICE_STEPS)),
    ("upgrade зрение to v2 (оттенки серого)", "en", E("update", "organ", "vision", 2, ("grayscale",))),
    ("обучи the classifier", "ru", E("train", "node", KC, 1)),
    ("откати vision v2", "ru", E("rollback", "organ", "vision", 2)),
]

TYPOS = [  # (text, lang, expected): one insertion, deletion, substitution or transposition
    ("create voise organ v1", "en", E("create", "organ", "voice", 1)),
    ("create visoin organ", "en", E("create", "organ", "vision")),  # a transposition is one edit
    ("create vison organ v2", "en", E("create", "organ", "vision", 2)),  # a deletion
    ("approve organ voicee", "en", E("approve", "organ", "voice")),  # an insertion
    ("создай голосавой орган v1", "ru", E("create", "organ", "voice", 1)),
    ("создай голосовго органа", "ru", E("create", "organ", "voice")),
    ("обнови зрени до v2", "ru", E("update", "organ", "vision", 2)),
    ("unlock factory_scrpit", "en", C("factory_script", "experimental")),
    ("запрети factory_scrpt", "ru", C("factory_script", "locked")),
    ("upgrade vision to v2 (greyscal)", "en", E("update", "organ", "vision", 2, ("grayscale",))),
    ("approve analysis.ehco.v1", "en", E("approve", "node", "analysis.echo.v1", 1)),
    ("одобри узел analysis.ekho.v1", "ru", E("approve", "node", "analysis.echo.v1", 1)),
    ("train keyword_clasify", "en", E("train", "node", KC, 1)),
    ("train analysis.keyword_clasify.v1", "en", E("train", "node", KC, 1)),
    ("собери normalise→phonmes→adapter", "ru",
     E("pipeline", "organ", "normalize-phonemes-adapter", steps=VOICE_STEPS)),
    ("craete voice organ v1", "en", E("create", "organ", "voice", 1)),
]

TABLES = {
    "create": (CREATE_RU, CREATE_EN),
    "update": (UPDATE_RU, UPDATE_EN),
    "pipeline": (PIPELINE_RU, PIPELINE_EN),
    "approve": (APPROVE_RU, APPROVE_EN),
    "rollback": (ROLLBACK_RU, ROLLBACK_EN),
    "disable": (DISABLE_RU, DISABLE_EN),
    "capability": (CAPABILITY_RU, CAPABILITY_EN),
    "status": (STATUS_RU, STATUS_EN),
    "train": (TRAIN_RU, TRAIN_EN),
}

CASES = [
    pytest.param(text, lang, expected, id=f"{intent}-{lang}-{i}")
    for intent, (ru, en) in TABLES.items()
    for lang, table in (("ru", ru), ("en", en))
    for i, (text, expected) in enumerate(table)
]


def check(intent: Intent, text: str, lang: str, expected: dict) -> None:
    got = {k: getattr(intent, k) for k in expected}
    assert got == expected, text
    assert intent.lang == lang, text
    assert intent.text == text


@pytest.mark.parametrize("text,expected", SEED, ids=["seed-create", "seed-update", "seed-pipeline"])
def test_seed_commands(vocab, text, expected):
    check(parse(text, vocab), text, "ru", expected)


@pytest.mark.parametrize("text,lang,expected", CASES)
def test_phrasings(vocab, text, lang, expected):
    check(parse(text, vocab), text, lang, expected)


@pytest.mark.parametrize("text,expected", INFLECTIONS)
def test_inflections(vocab, text, expected):
    check(parse(text, vocab), text, "ru", expected)


@pytest.mark.parametrize("text,lang,expected", MIXED)
def test_mixed_languages(vocab, text, lang, expected):
    check(parse(text, vocab), text, lang, expected)


@pytest.mark.parametrize("text,lang,expected", TYPOS)
def test_typos_within_one_edit(vocab, text, lang, expected):
    check(parse(text, vocab), text, lang, expected)


@pytest.mark.parametrize("arrow", ["→", "->", "=>", "⇒", "-->", ",", " затем ", " then ", " и потом ",
                                   " and then ", ";", "|"])
def test_every_arrow_kind(vocab, arrow):
    text = f"собери speak-pipeline normalize{arrow}phonemes{arrow}adapter"
    intent = parse(text, vocab)
    assert (intent.action, intent.name, intent.steps) == ("pipeline", "speak-pipeline", VOICE_STEPS)


def test_tables_hold_ten_phrasings_per_intent_per_language():
    for intent, (ru, en) in TABLES.items():
        for lang, table in (("ru", ru), ("en", en)):
            texts = [t for t, _ in table]
            assert len(set(texts)) >= 10, (intent, lang)
            expected_action = "disable" if intent == "disable" else intent
            assert all(e["action"] == expected_action for _, e in table), (intent, lang)


def test_step_words_keep_their_order(vocab):
    intent = parse("собери адаптер → фонемы → нормализация", vocab)
    assert intent.steps == ("speak_adapter", "text_to_phonemes", "text_normalize")
    assert intent.name == "adapter-phonemes-normalize"


def test_grayscale_is_an_option_in_updates_and_a_step_in_pipelines(vocab):
    assert parse("обнови зрение до v2 (серый)", vocab).options == ("grayscale",)
    assert parse("собери серый → ocr", vocab).steps == ("image_grayscale", "ocr")


def test_disable_a_capability_versus_an_organ(vocab):
    assert parse("выключи factory_script", vocab).action == "capability"
    assert parse("выключи голосовой орган", vocab).action == "disable"
    assert parse("выключи organ_voice", vocab).action == "capability"


def test_intent_is_frozen_and_serialisable(vocab):
    intent = parse("обнови зрение до v2 (grayscale)", vocab)
    with pytest.raises(dataclasses.FrozenInstanceError):
        intent.name = "voice"  # type: ignore[misc]
    assert intent.to_dict() == {
        "action": "update", "lang": "ru", "target": "organ", "name": "vision", "version": 2,
        "options": ["grayscale"], "steps": [], "state": None, "pick": None, "filters": {}, "ignored": [],
        "text": "обнови зрение до v2 (grayscale)",
    }


def test_parse_is_pure_and_repeatable(vocab):
    before = (dict(vocab.organs), vocab.nodes, vocab.capabilities, vocab.impls)
    first = parse("создай голосовой орган v1", vocab)
    assert parse("создай голосовой орган v1", vocab) == first
    assert (dict(vocab.organs), vocab.nodes, vocab.capabilities, vocab.impls) == before


def test_names_resolve_against_the_given_vocabulary():
    small = Vocabulary(organs={"voice": (1,)}, nodes=("analysis.echo.v1",), capabilities=("factory_script",),
                       impls=("text_normalize", "text_to_phonemes"))
    assert parse("одобри analysis.echo.v1", small).name == "analysis.echo.v1"
    with pytest.raises(NotUnderstood):
        parse("одобри analysis.reverse.v1", small)  # not in this registry
    with pytest.raises(NotUnderstood):
        parse("разблокируй factory_wasm", small)
    with pytest.raises(NotUnderstood):  # speak_adapter is not in this library
        parse("собери normalize → phonemes → adapter", small)
    assert parse("собери normalize → phonemes", small).steps == ("text_normalize", "text_to_phonemes")


def test_organ_gate_needs_the_gate_in_the_vocabulary():
    no_gates = Vocabulary(organs={"voice": (1,)}, capabilities=("factory_script",))
    with pytest.raises(NotUnderstood):
        parse("включи голосовой орган", no_gates)
