"""Reasons as data: a `Why` is a code and its parameters, and a catalog turns it into words in a language.

ENGLISH is the catalog every English `reason` string of the API is rendered from (the analysis's metrics and
phase, an organ member's health); the admin UI renders the same `why` in the page's language (api/ui/i18n.py).
A catalog text is a `str.format` template over the params (`{n}`, `{rate:.3f}`) that may also choose a word
form by a number: `{n|request|requests}` in English (one, other), `{n|запрос|запроса|запросов}` in Russian
(one, few, many). A param that is itself a why (`{"code", "params"}`) is rendered first, in the same language.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMS = re.compile(r"\{(\w+)\|([^{}]*)\}")
WHY_FIELD = "the reason as data, {code, params}; `reason` is its English rendering (docs/runtime.md lists the codes)"


@dataclass(frozen=True)
class Why:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """`{"code", "params"}`, as the API shows it (a nested why as its own dict)."""
        return {"code": self.code,
                "params": {k: v.to_dict() if isinstance(v, Why) else v for k, v in self.params.items()}}

    @property
    def english(self) -> str:
        return words(self.to_dict())


def _english_form(n: float, forms: list[str]) -> str:
    return forms[0] if n == 1 else forms[-1]


def _russian_form(n: float, forms: list[str]) -> str:
    """1 запрос, 2 запроса, 5 запросов, 11 запросов, 21 запрос; a fraction takes the second form (1,5 запроса)."""
    if n != int(n):
        return forms[1]
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return forms[0]
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return forms[1]
    return forms[2]


PLURAL_RULES: dict[str, Callable[[float, list[str]], str]] = {"en": _english_form, "ru": _russian_form}


def plural(lang: str, n: float, *forms: str) -> str:
    """The word form for `n` in `lang` (English: one, other; Russian: one, few, many)."""
    return PLURAL_RULES.get(lang, _english_form)(n, list(forms))


def fill(text: str, values: Mapping[str, Any], lang: str = "en") -> str:
    """`text` with its `{n|form|…}` choices made, then formatted with `values`."""
    chosen = FORMS.sub(lambda m: plural(lang, values[m.group(1)], *m.group(2).split("|")), text)
    return chosen.format(**values)


def words(why: Mapping[str, Any], catalog: Mapping[str, str] | None = None, lang: str = "en") -> str:
    """A why (`{"code", "params"}`) in words: `catalog`'s text for its code, else the English one."""
    params = {k: words(v, catalog, lang) if isinstance(v, Mapping) and "code" in v else v
              for k, v in (why.get("params") or {}).items()}
    text = (catalog or {}).get(why["code"])
    if text is None:
        text, lang = ENGLISH[why["code"]], "en"
    return fill(text, params, lang)


ENGLISH: dict[str, str] = {
    # the sample
    "too_few_requests": "{n} of {min} requests so far",
    "too_few_shadow_comparisons": "{n} of {min} shadow comparisons so far",
    "none_asked_requests": "no requests yet, and min_requests 0 asks for none",
    "none_asked_shadow_comparisons": "no shadow comparisons yet, and min_requests 0 asks for none",
    "enough_requests": "{n} requests ≥ min_requests {min}",
    "all_pass": "all {n} metrics pass",
    # the SLO
    "error_rate_early": ("{count} errors in {n} requests already exceed the {allowed:g} that error_rate_max "
                         "{limit:g} allows in the minimum {min}"),
    "error_rate_value": "error rate {rate:.3f} ({count} of {n} requests) {sign} {limit:g}",
    "mismatch_rate_early": ("{count} mismatches in {n} shadow comparisons already exceed the {allowed:g} that "
                            "mismatch_rate_max {limit:g} allows in the minimum {min}"),
    "mismatch_rate_value": "mismatch rate {rate:.3f} ({count} of {n} shadow comparisons) {sign} {limit:g}",
    "latency_value": "{label} {value:.1f} ms {sign} {limit:g} ms over {n} requests",
    "no_latency": "no latency was recorded",
    "operations_p95_value": "operations p95 {value:.0f} {sign} {limit:g} over {n} invocations",
    "no_operations": "the backend reported no operation counts",
    "memory_peak_mb_value": "memory peak {value:.2f} MiB {sign} {limit:g} MiB over {n} requests",
    "no_memory": "no memory was measured",
    # the stable baseline
    "no_baseline": "no stable version on this route to compare with",
    "the_candidate": "the candidate",
    "the_stable_version": "the stable version",
    "side_too_few": "{side} has {n} of {min} requests so far",
    "side_no_requests": "{side} has no requests to compare, and min_requests 0 asks for none",
    "error_rates": ("error rate {rate:.3f} ({errors} of {n}) vs stable {stable_rate:.3f} "
                    "({stable_errors} of {stable_n})"),
    "baseline_errors_none": "{rates}: neither version erred",
    "baseline_errors_value": "{rates}: one-sided Fisher p={p:.2g} {sign} {p_max:g}",
    "baseline_latency_within": "p95 {candidate:.1f} ms vs stable {stable:.1f} ms: ratio {ratio:.2f} ≤ {ratio_max:g}",
    "baseline_latency_slack": ("p95 {candidate:.1f} ms vs stable {stable:.1f} ms: ratio {ratio:.2f} > {ratio_max:g} "
                               "but only {diff:.1f} ms slower, within the {slack:g} ms slack"),
    "baseline_latency_beyond": ("p95 {candidate:.1f} ms vs stable {stable:.1f} ms: ratio {ratio:.2f} > {ratio_max:g} "
                                "and {diff:.1f} ms slower, beyond the {slack:g} ms slack"),
    "baseline_memory_within": ("memory peak {candidate:.2f} MiB vs stable {stable:.2f} MiB: ratio {ratio:.2f} ≤ "
                               "{ratio_max:g}"),
    "baseline_memory_slack": ("memory peak {candidate:.2f} MiB vs stable {stable:.2f} MiB: ratio {ratio:.2f} > "
                              "{ratio_max:g} but only {diff:.2f} MiB more, within the {slack:g} MiB slack"),
    "baseline_memory_beyond": ("memory peak {candidate:.2f} MiB vs stable {stable:.2f} MiB: ratio {ratio:.2f} > "
                               "{ratio_max:g} and {diff:.2f} MiB more, beyond the {slack:g} MiB slack"),
    "baseline_operations_within": ("operations p95 {candidate:.0f} vs stable {stable:.0f}: ratio {ratio:.2f} ≤ "
                                   "{ratio_max:g}"),
    "baseline_operations_slack": ("operations p95 {candidate:.0f} vs stable {stable:.0f}: ratio {ratio:.2f} > "
                                  "{ratio_max:g} but only {diff:.0f} more, within the slack of {slack:g}"),
    "baseline_operations_beyond": ("operations p95 {candidate:.0f} vs stable {stable:.0f}: ratio {ratio:.2f} > "
                                   "{ratio_max:g} and {diff:.0f} more, beyond the slack of {slack:g}"),
    "baseline_latency_unmeasured": "{side} has no latency recorded: nothing to compare",
    "baseline_memory_unmeasured": "{side} reports no memory peak: nothing to compare",
    "baseline_operations_unmeasured": "{side} reports no operation counts: nothing to compare",
    # the phase
    "failed_over_limit": "{n} {n|failed measurement|failed measurements} > failure_limit {limit}: {why}",
    "earlier_windows_failed": "earlier windows failed",
    "failures_tolerated": ("{n} {n|failed measurement|failed measurements}, failure_limit {limit} tolerates "
                           "{n|it|them}: {why}"),
    "needs_a_human": ("{why}; {n} {n|inconclusive measurement|inconclusive measurements} > inconclusive_limit "
                      "{limit}: a human should look"),
    # an organ member's health
    "member_not_registered": "not registered",
    "member_down": "the node is {state}",
    "no_recent_requests": "no requests recently",
    "member_failing": "error rate {rate:.3f} > {limit:g}",
    "member_ok": "{n} requests, error rate {rate:.3f}",
}
