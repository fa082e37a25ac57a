"""The command language's word lists, in Russian and English.

Russian words are written in any form: the parser lemmatises both the list and
the command with pymorphy3, so "голосовой" also matches "голосового",
"голосовым", …; English words are matched with their plural stems ("organs").
Multi-word entries match as phrases ("оттенки серого", "text to phonemes",
"roll back"); the longest phrase wins.

Public tables (the planner may reuse them):

- ``ORGAN_SYNONYMS``  organ name → words (voice, vision, hearing, echo, reverse)
- ``IMPL_SYNONYMS``   library implementation → words (pipeline steps, node names)
- ``OPTION_SYNONYMS`` update/create option → words (grayscale, downscale, …)
- ``OPTION_IMPL``     option → the implementation it adds
- ``SYNONYMS``        all three merged: canonical name → words
- ``STEP_LABELS``     implementation → short label used for default pipeline names
- ``ACTION_WORDS``    verb class → words
- ``GATE_STATES``     capability verb → gate state it asks for
- ``STATE_WORDS``, ``KIND_WORDS``, ``PICK_WORDS``: the lifecycle states, node kinds and relative
  versions ("newest", "previous") a status question filters by or a lifecycle command picks a version by
"""
from __future__ import annotations

from types import MappingProxyType

from ..domain.backend_kinds import BACKEND_KINDS

ORGAN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "voice": ("voice", "speech", "vocal", "голос", "голосовой", "речь", "речевой"),
    "vision": ("vision", "visual", "sight", "зрение", "зрительный", "визуальный"),
    "hearing": ("hearing", "audition", "listening", "слух", "слуховой"),
    "echo": ("echo", "эхо"),
    "reverse": ("reverse", "реверс", "разворот", "переворот"),
}

_GRAY = ("grayscale", "greyscale", "gray", "grey", "gray scale", "shades of gray", "shades of grey",
         "серый", "оттенки серого", "градации серого", "обесцветить", "обесцвечивание")
_DOWNSCALE = ("downscale", "down-scale", "scale down", "shrink", "resize",
              "уменьшить", "уменьшение", "сжать", "сжатие", "масштабирование")
_BINARIZE = ("binarize", "binarise", "binarization", "binarisation", "black and white",
             "black-and-white", "бинаризация", "бинаризовать", "чёрно-белый")
# not "text" / «текст» alone: the text a step works on («разворот текста»), not a step
_OCR = ("ocr", "text recognition", "recognize text", "read text", "распознавание",
        "распознать", "распознавание текста", "распознать текст", "чтение текста")
_ROI = ("roi", "ocr roi", "region of interest", "область интереса")

IMPL_SYNONYMS: dict[str, tuple[str, ...]] = {
    "text_normalize": ("text_normalize", "normalize", "normalise", "normalization", "normalisation",
                       "normalizer", "text normalize", "normalize text", "text normalization",
                       "нормализация", "нормализовать", "нормализатор", "нормализация текста",
                       "нормализовать текст"),
    "text_to_phonemes": ("text_to_phonemes", "phonemes", "phoneme", "phonemize", "phonemizer",
                         "text to phonemes", "g2p", "фонема", "фонемизация", "фонемизатор",
                         "транскрипция", "текст в фонемы"),
    "speak_adapter": ("speak_adapter", "adapter", "speak", "speaker", "speak adapter",
                      "speech adapter", "tts", "адаптер", "адаптер речи", "озвучить",
                      "озвучивание", "синтез речи"),
    "image_grayscale": ("image_grayscale", *_GRAY),
    "image_downscale": ("image_downscale", *_DOWNSCALE),
    "image_binarize": ("image_binarize", *_BINARIZE),
    "ocr": _OCR,
    "ocr_roi": ("ocr_roi", *_ROI),
    "keyword_classify": ("keyword_classify", "classify", "classifier", "classification",
                         "keyword classifier", "keywords", "классификатор", "классификация",
                         "классифицировать", "ключевые слова"),
    "regex_extract": ("regex_extract", "regex", "extract", "extractor", "extraction",
                      "извлечение", "извлечь", "регулярка", "регулярное выражение"),
    "json_map": ("json_map", "json map", "json mapping", "jsonmap", "маппинг"),
    "echo": ("echo", "эхо"),
    "reverse": ("reverse", "реверс", "разворот", "переворот", "перевернуть", "разворот текста", "переворот текста",
                "reverse text", "text reversal"),
}

OPTION_SYNONYMS: dict[str, tuple[str, ...]] = {
    "grayscale": _GRAY,
    "downscale": _DOWNSCALE,
    "binarize": _BINARIZE,
    "ocr": _OCR,
}

OPTION_IMPL: dict[str, str] = {
    "grayscale": "image_grayscale",
    "downscale": "image_downscale",
    "binarize": "image_binarize",
    "ocr": "ocr",
}

STEP_LABELS: dict[str, str] = {
    "text_normalize": "normalize",
    "text_to_phonemes": "phonemes",
    "speak_adapter": "adapter",
    "image_grayscale": "grayscale",
    "image_downscale": "downscale",
    "image_binarize": "binarize",
    "keyword_classify": "classify",
    "regex_extract": "extract",
}


def _merge(*tables: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for table in tables:
        for name, words in table.items():
            bucket = out.setdefault(name, [])
            bucket.extend(w for w in words if w not in bucket)
    return {k: tuple(v) for k, v in out.items()}


SYNONYMS = MappingProxyType(_merge(ORGAN_SYNONYMS, IMPL_SYNONYMS, OPTION_SYNONYMS))

# --- the rest of the command language ------------------------------------------

ACTION_WORDS: dict[str, tuple[str, ...]] = {
    "create": ("создать", "сделать", "сгенерировать", "построить", "сформировать", "завести",
               "добавить", "сотворить", "изготовить", "сфабриковать", "создание", "создавать", "делать",
               "строить", "генерировать", "добавлять",
               "create", "build", "make", "generate", "add", "fabricate", "spawn", "set up"),
    # "assemble" is create, or a pipeline when steps follow
    "assemble": ("собрать", "соединить", "связать", "сцепить", "скомпоновать", "собирать", "соединять",
                 "assemble", "compose", "chain", "wire", "pipe", "connect"),
    "update": ("обновить", "улучшить", "апгрейдить", "проапгрейдить", "поднять", "обновление",
               "обновлять", "улучшать", "поднимать",
               "update", "upgrade", "bump"),
    "approve": ("одобрить", "утвердить", "подтвердить", "принять", "согласовать", "продвинуть",
                "одобрять", "утверждать", "подтверждать", "принимать",
                "одобрение", "approve", "accept", "promote", "confirm", "sign off", "greenlight"),
    "rollback": ("откатить", "откат", "вернуть", "откатывать", "возвращать", "rollback", "roll back", "roll-back", "roll",
                 "revert", "undo"),
    "disable": ("отключить", "выключить", "деактивировать", "вырубить", "остановить", "отключать",
                "выключать", "останавливать",
                "отключение", "выключение", "disable", "deactivate", "turn off", "switch off",
                "shut down", "shutdown", "stop"),
    "unlock": ("разблокировать", "открыть", "разрешить", "разблокировка", "снять блокировку",
               "открывать", "разрешать",
               "unlock", "allow", "permit", "open", "open up"),
    "enable": ("включить", "активировать", "врубить", "включение", "активация", "включать",
               "enable", "activate", "turn on", "switch on"),
    "lock": ("заблокировать", "блокировать", "запретить", "закрыть", "блокировка", "запрещать",
             "закрывать",
             "lock", "block", "forbid", "prohibit", "lock down"),
    "status": ("показать", "вывести", "отобразить", "перечислить", "посмотреть", "статус",
               "показывать", "выводить", "отображать", "перечислять", "смотреть",
               "состояние", "список", "проверить", "глянуть", "узнать", "увидеть",
               "show", "list", "display", "status", "state", "view", "describe", "check", "find", "see"),
    "train": ("обучить", "натренировать", "тренировать", "дообучить", "обучать", "обучение",
              "дообучать", "натренировывать", "потренировать",
              "тренировка", "train", "retrain", "tune", "fine-tune", "finetune", "fine tune", "training"),
}

# Verbs that only carry another action's noun: "сделай откат", "make a rollback".
LIGHT_VERBS: tuple[str, ...] = ("сделать", "выполнить", "провести", "произвести", "запустить",
                                "make", "do", "perform", "run", "execute", "start")

GATE_STATES: dict[str, str] = {
    "unlock": "experimental",
    "enable": "stable",
    "lock": "locked",
    "disable": "disabled",
}

TARGET_WORDS: dict[str, tuple[str, ...]] = {
    "organ": ("орган", "organ"),
    "node": ("узел", "нода", "нод", "node"),
    "capability": ("способность", "возможность", "гейт", "фича", "флаг", "capability", "gate",
                   "feature", "flag"),
    "pipeline": ("конвейер", "пайплайн", "цепочка", "цепь", "последовательность", "pipeline",
                 "chain", "sequence"),
}

MARK_WORDS: dict[str, tuple[str, ...]] = {
    "version": ("версия", "version", "ver", "номер"),
    "to": ("до", "на", "to", "into"),
    "from": ("с", "со", "от", "from"),
    "of": ("из", "from", "out of", "made of", "made from"),  # what an organ is made of
    "with": ("с", "со", "with", "using", "plus", "включая"),
    "name": ("named", "called", "as", "name", "как", "под названием", "с именем", "по имени",
             "название", "имя", "назвать"),
}

SEPARATOR_WORDS: dict[str, tuple[str, ...]] = {
    # strong: a chain of steps for sure
    "then": ("затем", "потом", "далее", "после этого", "и потом", "а потом", "и затем", "а затем",
             "наконец", "и наконец", "после чего",
             "then", "next", "after that", "and then", "followed by", "finally", "and finally"),
    # weak: a list
    "and": ("и", "а также", "and"),
}

FILLER_WORDS: tuple[str, ...] = (
    # Russian
    "пожалуйста", "плиз", "пож", "спасибо", "мне", "нам", "новый", "мой", "наш", "свой", "этот",
    "тот", "сейчас", "теперь", "давай", "давайте", "можно", "ли", "ты", "вы", "бы", "ну", "весь",
    "текущий", "из", "в", "во", "для", "по", "назад", "обратно", "также",
    "ещё", "сразу", "уже", "так", "вот", "просто", "хотеть", "нужно", "надо", "мочь", "прошу",
    "просить", "режим", "опция", "информация", "о", "об", "про", "у", "к", "быстро", "эй",
    "привет", "будь добр", "будьте добры", "если не сложно", "который", "под", "его", "её",
    "их", "это", "там", "тут", "здесь", "же", "уж", "все", "всех", "сначала", "версионный",
    "не мог бы", "не могла бы", "не могли бы", "не можешь ли", "не могли бы вы", "будь любезен",
    "будьте любезны", "нужный", "необходимо", "требуется", "хотелось бы", "сделай милость", "срочно",
    "есть", "ладно", "окей", "слушай", "а", "прямо", "на всякий случай", "пока что", "у нас", "вообще",
    # English
    "the", "a", "an", "please", "pls", "kindly", "now", "me", "us", "my", "our", "new", "of", "for",
    "in", "on", "at", "can", "could", "would", "will", "you", "i", "we", "want", "need", "like",
    "let", "lets", "go", "just", "also", "is", "are", "s", "current",
    "currently", "all", "every", "each", "ok", "okay", "hey", "hi", "thanks", "thank", "it",
    "this", "that", "back", "again", "quickly", "right", "away", "give", "info", "information",
    "details", "about", "there", "here", "some", "its", "mode", "option", "options", "by",
    "one", "up", "how", "does", "look", "looks", "tell", "d", "ll", "m", "ve", "re", "mind",
    "ahead", "any", "many", "have", "got", "do you", "for me", "if you can", "if possible", "go ahead and",
    "real quick", "asap", "should", "shall", "maybe", "perhaps", "for now", "thank you",
)

# "add" beside an update's verb adds its options («обнови зрение до v2 и добавь ocr»): not a second action
ADD_WORDS = frozenset({"добавить", "добавлять", "add"})
# "all": a filler in a question («покажи все органы»), but a command about one organ or node that says it refuses
ALL_WORDS = frozenset({"весь", "все", "всё", "всех", "all", "every", "each", "everything"})
# rollback verbs that name the version to come back («верни стабильную версию»), not the one to roll back
RETURN_WORDS = frozenset({"вернуть", "возвращать"})

# Question words: a question without a verb asks for the status («какие узлы на канарейке?»)
QUESTION_WORDS: tuple[str, ...] = ("какой", "каков", "что", "где", "сколько", "which", "what", "whats",
                                   "how many", "where", "are there", "anything", "что-нибудь", "что-то")

# the parts of gate names (factory_script, organ_voice); a backend's words are in its entry in backend_kinds.py
CAPABILITY_PART_WORDS: dict[str, tuple[str, ...]] = {
    "factory": ("фабрика", "фабричный", "фабрикатор"),
    **{kind.name: kind.words for kind in BACKEND_KINDS.values()},
    "organ": ("орган",),
    "builder": ("сборщик", "конструктор", "строитель", "сборка", "building", "assembly"),
    "voice": ("голос", "голосовой", "речь", "речевой"),
    "vision": ("зрение", "зрительный", "визуальный"),
    "hearing": ("слух", "слуховой"),
    "readonly": ("чтение", "read-only"),
    "edit": ("редактирование", "правка", "самоизменение", "самоправка"),
    "training": ("обучение", "тренировка", "дообучение", "training", "trainings"),
    "self": ("самоизменение", "самоправка", "саморедактирование", "самомодификация", "self-editing",
             "self editing", "self-modification", "self modification", "self-edit", "self edit"),
}

# Lifecycle states (domain/lifecycle.py), as a status question filters by them («какие узлы на канарейке»)
# or a lifecycle command picks a version by them («откати стабильную версию зрения»)
STATE_WORDS: dict[str, tuple[str, ...]] = {
    "draft": ("черновик", "черновой", "draft", "drafts"),
    "canary": ("канарейка", "канареечный", "канарейки", "canary", "canaries", "on canary", "in canary"),
    "experimental": ("экспериментальный", "эксперимент", "experimental", "in experiment"),
    "stable": ("стабильный", "стабильно", "stable"),
    "deprecated": ("устаревший", "deprecated", "superseded"),
    "rolled_back": ("rolled back", "rolled-back", "reverted"),
    "disabled": ("disabled", "turned off", "switched off"),
    "quarantined": ("карантин", "карантинный", "quarantine", "quarantined", "in quarantine"),
    "failed": ("неудачный", "провальный", "failed", "broken"),
}

# Russian words whose lemma would mislead (a participle's lemma is its verb: «отключённые» → отключить,
# «новейшую» → новый): their own surface forms, as patterns, mean this instead (category, value)
SURFACE_WORDS: tuple[tuple[str, str, str], ...] = (
    (r"(от|вы)ключенн?(ый|ая|ое|ые|ого|ой|ому|ым|ыми|ых|ую|ом|а|о|ы)?", "state", "disabled"),
    (r"отка(ч|т)[еа]нн?(ый|ая|ое|ые|ого|ой|ому|ым|ыми|ых|ую|ом|а|о|ы)?", "state", "rolled_back"),
    (r"(наи)?новейш(ий|ая|ее|ие|его|ей|ему|им|ими|их|ую|ем)", "pick", "newest"),
)

# Node kinds (a template's *_type field); the memory kind is said with the memory backend's words
KIND_WORDS: dict[str, tuple[str, ...]] = {
    "analysis": ("аналитический", "анализирующий", "analysis", "analytic", "analytical"),
    "action": ("действие", "исполнительный", "action", "actions"),
}

# Versions named relative to the others: the newest, the one before it; "last stable" picks the newest of a state
PICK_WORDS: dict[str, tuple[str, ...]] = {
    "newest": ("последний", "самый последний", "свежий", "самый свежий", "самый новый", "крайний",
               "newest", "latest", "last", "most recent", "the most recent"),
    "previous": ("предыдущий", "предпоследний", "прошлый", "прежний", "предшествующий",
                 "previous", "prior", "preceding", "second newest", "before last", "the one before",
                 "one before", "one before last", "the one before last", "second to last", "the one before the latest",
                 "the one before the newest"),
}

ORDINAL_WORDS: dict[int, tuple[str, ...]] = {
    1: ("первый", "first"),
    2: ("второй", "second"),
    3: ("третий", "third"),
    4: ("четвёртый", "fourth"),
    5: ("пятый", "fifth"),
}
