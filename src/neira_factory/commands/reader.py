"""The state of reading one command, and what every verb's reading shares.

A Reader holds the command's items (lexicon.py), the indexes of the items used
so far, the command's language and what has been understood; it answers with
the words not used yet, versions, target nouns and options, and fails with
NotUnderstood in the command's language (with what was understood and what
was probably meant).
"""
from __future__ import annotations

import difflib
from typing import NoReturn

from .lexicon import NAME_CATS, Context, Item, analyse
from .morphology import forms, lemmas, norm, tokenize
from .synonyms import ALL_WORDS, IMPL_SYNONYMS, OPTION_SYNONYMS, ORGAN_SYNONYMS, RETURN_WORDS
from .vocabulary import NotUnderstood, Vocabulary

_MESSAGES = {
    "ru": {
        "empty": "Пустая команда: напишите, что сделать, например «создай голосовой орган v1».",
        "no_verb": "Не понял, что сделать: в команде нет действия{words}. Возможные действия: {verbs}.",
        "two_verbs": "Не понял: в команде несколько разных действий ({words}). Дайте одну команду за раз.",
        "two_versions": "Не понял, какая версия нужна: {versions}.",
        "ambiguous": "Неоднозначно: «{words}» подходит к нескольким именам: {names}. Уточните.",
        "no_name": "Не понял, к чему относится команда. Возможно, вы имели в виду: {names}.",
        "no_steps": "Не понял шаги конвейера: перечислите их через стрелки, например normalize → phonemes → adapter.",
        "two_of": "Не понял, что из этого нужно: {words}. Назовите одно.",
        "rollback_to": "Не понял, какую версию откатить («{words}»): откат снимает живую версию, и предыдущая "
                       "возвращается сама. Скажите, что откатить, например «откати голосовой орган» или «откати "
                       "последнюю версию зрения».",
        "all": "Не понял «{words}»: команда действует на одну версию одного органа или узла. Назовите её.",
    },
    "en": {
        "empty": "Empty command: say what to do, e.g. 'create voice organ v1'.",
        "no_verb": "Did not understand what to do: the command has no action{words}. Actions: {verbs}.",
        "two_verbs": "Did not understand: the command asks for several different actions ({words}). One at a time, please.",
        "two_versions": "Did not understand which version is meant: {versions}.",
        "ambiguous": "Ambiguous: '{words}' fits several names: {names}. Please say which.",
        "no_name": "Did not understand what the command is about. Did you mean: {names}?",
        "no_steps": "Did not understand the pipeline's steps: list them with arrows, e.g. normalize → phonemes → adapter.",
        "two_of": "Did not understand which of these is meant: {words}. Name one.",
        "rollback_to": "Did not understand which version to roll back ('{words}'): a rollback takes the live version "
                       "down and the one before comes back by itself. Say what to roll back, e.g. 'roll back the voice "
                       "organ' or 'roll back the newest version of vision'.",
        "all": "Did not understand '{words}': the command acts on one version of one organ or node. Name it.",
    },
}


class Reader:
    """One command being read: its items, which of them are used, its language, what is understood."""

    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self.ctx = Context(vocab)
        self.items = analyse(tokenize(text), self.ctx)
        self.used: set[int] = set()
        self.lang = self._language()
        self.understood: dict = {}

    # -- helpers --

    def fail(self, not_understood: list[str], suggestions: list[str], reason: str | None = None) -> NoReturn:
        understood = {k: v for k, v in self.understood.items() if v not in (None, "", [], (), {})}
        raise NotUnderstood(self.lang, understood, list(not_understood), list(suggestions)[:8], reason)

    def ambiguous(self, words: list[str], names: list[str]) -> NoReturn:
        """Fail: these words fit each of these names."""
        self.fail(words, names, self.msg("ambiguous", words=" ".join(words), names=", ".join(names)))

    def msg(self, key: str, **kw) -> str:
        return _MESSAGES[self.lang][key].format(**kw)

    def _language(self) -> str:
        words = [it for it in self.items if it.kind == "word"]
        if not words:
            return "ru"

        def count(items) -> tuple[int, int]:
            ru = sum(1 for it in items for s in it.scripts if s == "ru")
            en = sum(1 for it in items for s in it.scripts if s == "en")
            return ru, en

        func = [it for it in words if it.has("verb", "light", "target", "mark", "sep", "filler", "ord", "ask",
                                             "state", "kind", "pick") and not it.has(*NAME_CATS)]
        ru, en = count(func)
        if ru != en:
            return "ru" if ru > en else "en"
        verbs = [it for it in words if it.has("verb")]
        if verbs:
            ru, en = count(verbs[:1])
            if ru != en:
                return "ru" if ru > en else "en"
        ru, en = count(words)
        if ru != en:
            return "ru" if ru > en else "en"
        return "ru" if ru else "en"

    def words_of(self, idxs) -> list[str]:
        return [self.items[i].text for i in idxs]

    def content(self) -> list[int]:
        """Indexes of unused items that carry meaning (not fillers or separators)."""
        return [i for i, it in enumerate(self.items)
                if i not in self.used and not it.is_struct and not it.has("light")]

    def prev_item(self, i: int) -> Item | None:
        return self.items[i - 1] if i > 0 else None

    def next_item(self, i: int) -> Item | None:
        return self.items[i + 1] if i + 1 < len(self.items) else None

    def suggest(self, words: list[str], pool: list[str]) -> list[str]:
        out: list[str] = []
        for w in words:
            for s in difflib.get_close_matches(norm(w), pool, n=4, cutoff=0.6):
                if s not in out:
                    out.append(s)
        return out

    def name_pool(self, kinds: tuple[str, ...]) -> list[str]:
        pool: list[str] = []
        if "organ" in kinds:
            pool += self.ctx.organ_names()
        if "node" in kinds:
            pool += sorted(self.ctx.nodes)
        if "capability" in kinds:
            pool += sorted(self.ctx.caps)
        if "impl" in kinds:
            pool += self.ctx.impl_names()
        return list(dict.fromkeys(pool))

    def synonym_suggestions(self, words: list[str], kinds: tuple[str, ...]) -> list[str]:
        """Close names, reached through their canonical spelling or a synonym."""
        tables = []
        if "organ" in kinds:
            tables.append(ORGAN_SYNONYMS)
        if "impl" in kinds:
            tables.append(IMPL_SYNONYMS)
        if "option" in kinds:
            tables.append(OPTION_SYNONYMS)
        by_word: dict[str, str] = {}
        for table in tables:
            for canon, syns in table.items():
                for s in (canon, *syns):
                    by_word.setdefault(norm(s), canon)
        for name in self.name_pool(kinds):
            by_word.setdefault(name, name)
        out: list[str] = []
        for w in words:
            probes = [norm(w), *lemmas(norm(w))]
            for p in probes:
                for s in difflib.get_close_matches(p, list(by_word), n=4, cutoff=0.6):
                    if by_word[s] not in out:
                        out.append(by_word[s])
        return out

    def leftovers(self, kinds: tuple[str, ...]) -> None:
        """Every meaningful word must have been used; otherwise say which were not."""
        left = self.content()
        if not left:
            return
        words = self.words_of(left)
        ambiguous = [n for i in left for n in self.items[i].ambiguous]
        suggestions = list(dict.fromkeys(ambiguous))
        suggestions += [s for s in self.synonym_suggestions(words, kinds) if s not in suggestions]
        if not suggestions and any(self.items[i].in_parens for i in left):
            suggestions = list(OPTION_SYNONYMS)  # "(…)" holds options
        self.fail(words, suggestions)

    # -- versions, targets, options --

    def versions(self) -> int | None:
        to, plain = [], []
        for i, it in enumerate(self.items):
            if i in self.used:
                continue
            if it.has("ver"):
                v = it.vals("ver")[0]
            elif it.has("num", "ord"):
                prev, nxt = self.prev_item(i), self.next_item(i)
                if not ((prev and "mark" in prev.m) or (nxt and "version" in nxt.vals("mark"))):
                    continue
                v = (it.vals("num") or it.vals("ord"))[0]
            else:
                continue
            # look back across a "версия"/"version" word for до/to or с/from
            j = i - 1
            role = "plain"
            while j >= 0 and self.items[j].kind == "word":
                marks = self.items[j].vals("mark")
                if "version" in marks and not ({"to", "from"} & set(marks)):
                    j -= 1
                    continue
                if "to" in marks:
                    role = "to"
                elif "from" in marks:
                    role = "from"
                break
            self.used.add(i)
            if role == "to":
                to.append(v)
            elif role == "plain":
                plain.append(v)
        chosen = to or plain
        distinct = list(dict.fromkeys(chosen))
        if len(distinct) > 1:
            self.understood["version"] = None
            self.fail([f"v{v}" for v in distinct], [f"v{v}" for v in distinct],
                      self.msg("two_versions", versions=", ".join(f"v{v}" for v in distinct)))
        if distinct:
            self.understood["version"] = distinct[0]
            return distinct[0]
        return None

    def ignored(self) -> tuple[str, ...]:
        """The words that changed nothing (please, the, пожалуйста), as written."""
        return tuple(it.text for i, it in enumerate(self.items)
                     if i not in self.used and it.kind == "word" and it.has("filler", "ask"))

    def qualifiers(self, action: str) -> tuple[str | None, str | None]:
        """A version named relative to the others or by its state («последнюю», "the one before",
        «стабильную», "last stable"): (pick, state); a state alone picks the newest in it."""
        found: dict[str, dict[str, list[int]]] = {"pick": {}, "state": {}}
        for i in self.content():
            if not self.items[i].in_parens:
                for cat, values in found.items():
                    for v in self.items[i].vals(cat):
                        values.setdefault(v, []).append(i)
        for values in found.values():
            if len(values) > 1:
                idx = sorted({i for v in values.values() for i in v})
                self.fail(self.words_of(idx), list(values), self.msg("two_of", words=", ".join(self.words_of(idx))))
        idx = sorted({i for values in found.values() for v in values.values() for i in v})
        if not idx:
            return None, None
        pick = next(iter(found["pick"]), "newest")
        if action == "rollback" and (pick == "previous" or self._after_to(idx[0]) or self._says(RETURN_WORDS)):
            # «откати к предыдущей», «верни стабильную версию»: the version to come back, not the one to go
            self.fail(self.words_of(idx), [], self.msg("rollback_to", words=" ".join(self.words_of(idx))))
        self.used.update(idx)
        state = next(iter(found["state"]), None)
        self.understood.update(pick=pick, state=state)
        return pick, state

    def one_only(self) -> None:
        """A command about one organ or node must not say "all" («все версии», "every node"): fail on it."""
        said = [i for i, it in enumerate(self.items) if i not in self.used and forms(it.text) & ALL_WORDS]
        if said:
            words = self.words_of(sorted(set(said)))
            self.fail(words, [], self.msg("all", words=" ".join(words)))

    def _says(self, words: frozenset[str]) -> bool:
        return any(forms(it.text) & words for it in self.items if it.kind == "word")

    def _after_to(self, i: int) -> bool:
        """Whether the word at `i` follows "to" («до», «на», «к»), across fillers and "версию"/"version"."""
        j = i - 1
        while j >= 0 and self.items[j].kind == "word":
            it = self.items[j]
            if "to" in it.vals("mark") or norm(it.text) in ("к", "ко"):
                return True
            if not (it.has("filler") or "version" in it.vals("mark")):
                return False
            j -= 1
        return False

    def noun_targets(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for i, it in enumerate(self.items):
            if i in self.used or it.in_parens:
                continue
            for t in it.vals("target"):
                out.setdefault(t, []).append(i)
        return out

    def use_nouns(self, nouns: dict[str, list[int]], target: str) -> None:
        for i in nouns.get(target, ()):
            self.used.add(i)

    def options(self) -> tuple[str, ...]:
        out: list[str] = []
        for i in self.content():
            it = self.items[i]
            opts = it.vals("option")
            if len(opts) == 1:
                self.used.add(i)
                if opts[0] not in out:
                    out.append(opts[0])
        if out:
            self.understood["options"] = list(out)
        return tuple(out)
