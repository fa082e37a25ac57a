"""create, for a memory node: «создай узел памяти для фактов», "create a memory node for facts".

A command that makes something and names memory (a word of the memory backend's entry in
domain/backend_kinds.py) makes a memory node `memory.<topic>.vN`: the topic is the one other word it says
(«фактов» → facts; a Russian word is read as its lemma, known topics in English, others transliterated), N
the next version of that route unless the command names one. Its template is the example of that id when
examples/ has one, else a memory node whose store is the topic (plans.node_step).
"""
from __future__ import annotations

import re

from ..lexicon import node_route, node_version
from ..morphology import is_cyrillic, lemmas, norm
from ..plans import World
from ..reader import Reader
from ..vocabulary import Intent

# Neira's kinds of memory cell and common topics: a Russian lemma -> the store's English name
TOPICS = {
    "факт": "facts", "правило": "rules", "понятие": "concepts", "концепция": "concepts", "концепт": "concepts",
    "событие": "events", "знание": "knowledge", "навык": "skills", "термин": "terms", "определение": "definitions",
    "человек": "people", "люди": "people", "место": "places", "цитата": "quotes", "рецепт": "recipes",
    "документ": "documents", "заметка": "notes", "диалог": "dialogs", "разговор": "conversations",
    "пользователь": "users", "контакт": "contacts", "книга": "books", "статья": "articles", "вопрос": "questions",
    "ответ": "answers", "предпочтение": "preferences", "задача": "tasks", "идея": "ideas",
}
_LATIN = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
                  ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r", "s",
                   "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"]))


def names_memory(p: Reader) -> bool:
    """Whether the command says memory (and is not about a capability gate by its full name)."""
    return any("memory" in p.items[i].vals("cappart") and not p.items[i].has("cap") for i in p.content())


def topic(word: str) -> str:
    """The store's name for a topic word: «фактов» → facts, "Recipes" → recipes, «сказок» → skazka."""
    if not is_cyrillic(word):
        return re.sub(r"[^a-z0-9_-]+", "_", word.lower()).strip("_-")
    lemma = (lemmas(word) or (norm(word),))[0]
    return TOPICS.get(lemma) or "".join(_LATIN.get(c, c) for c in lemma if c.isalnum())


def read(p: Reader, version: int | None) -> Intent:
    """The memory node to create: `memory.<topic>.v<version>` (the version chosen when planned if not named)."""
    nouns = p.noun_targets()
    p.used.update(i for i in p.content() if "memory" in p.items[i].vals("cappart"))
    p.use_nouns(nouns, "node")
    p.understood.update(target="node", backend="memory")
    words = [i for i in p.content() if not p.items[i].in_parens]
    if len(words) != 1 or not topic(p.items[words[0]].text):
        p.fail(p.words_of(words), ["facts", "rules", "concepts"], _say(p, "о чём будет память? Например: «создай "
               "узел памяти для фактов»", "what is the memory about? E.g. \"create a memory node for facts\""))
    p.used.add(words[0])
    name = topic(p.items[words[0]].text)
    p.understood["name"] = f"memory.{name}"
    return Intent("create", p.lang, "node", f"memory.{name}", version, options=("memory",), text=p.text)


def node_id(intent: Intent, world: World) -> str:
    """The id to create: the named version, else the route's next one."""
    route = intent.name or ""
    if intent.version is not None:
        return f"{route}.v{intent.version}"
    taken = [node_version(n) or 0 for n in world.nodes if node_route(n) == route]
    return f"{route}.v{max(taken, default=0) + 1}"


def _say(p: Reader, ru: str, en: str) -> str:
    return ru if p.lang == "ru" else en
