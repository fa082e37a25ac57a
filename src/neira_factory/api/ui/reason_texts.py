"""The Russian words for the reasons' codes (the English ones, which the API's `reason` strings are rendered
from, are domain/reasons.py's ENGLISH); i18n.reason renders a `why` with them. `{n|…|…|…}` chooses the form for
n: one, few, many (1 запрос, 2 запроса, 5 запросов); after «из» the forms are genitive (из 1 запроса, из 5 запросов).
"""
from __future__ import annotations

RUSSIAN: dict[str, str] = {
    # the sample
    "too_few_requests": "пока {n} {n|запрос|запроса|запросов} из {min}",
    "too_few_shadow_comparisons": "пока {n} {n|теневое сравнение|теневых сравнения|теневых сравнений} из {min}",
    "none_asked_requests": "запросов ещё нет, и min_requests 0 их не требует",
    "none_asked_shadow_comparisons": "теневых сравнений ещё нет, и min_requests 0 их не требует",
    "enough_requests": "{n} {n|запрос|запроса|запросов} ≥ min_requests {min}",
    "all_pass": "все метрики пройдены ({n})",
    # the SLO
    "error_rate_early": ("{count} {count|ошибка|ошибки|ошибок} на {n} {n|запрос|запроса|запросов} — уже больше "
                         "{allowed:g}, допустимых по error_rate_max {limit:g} при минимуме {min}"),
    "error_rate_value": "доля ошибок {rate:.3f} ({count} из {n} {n|запроса|запросов|запросов}) {sign} {limit:g}",
    "mismatch_rate_early": ("{count} {count|расхождение|расхождения|расхождений} на {n} "
                            "{n|теневое сравнение|теневых сравнения|теневых сравнений} — уже больше {allowed:g}, "
                            "допустимых по mismatch_rate_max {limit:g} при минимуме {min}"),
    "mismatch_rate_value": ("доля расхождений {rate:.3f} ({count} из {n} "
                            "{n|теневого сравнения|теневых сравнений|теневых сравнений}) {sign} {limit:g}"),
    "latency_value": "{label} {value:.1f} мс {sign} {limit:g} мс за {n} {n|запрос|запроса|запросов}",
    "no_latency": "задержка не записана",
    "operations_p95_value": "p95 операций {value:.0f} {sign} {limit:g} за {n} {n|вызов|вызова|вызовов}",
    "no_operations": "бэкенд не сообщил число операций",
    "memory_peak_mb_value": "пик памяти {value:.2f} МиБ {sign} {limit:g} МиБ за {n} {n|запрос|запроса|запросов}",
    "no_memory": "память не измерялась",
    # the stable baseline
    "no_baseline": "на этом маршруте нет стабильной версии для сравнения",
    "the_candidate": "у кандидата",
    "the_stable_version": "у стабильной версии",
    "side_too_few": "{side} пока {n} {n|запрос|запроса|запросов} из {min}",
    "side_no_requests": "{side} нет запросов для сравнения, и min_requests 0 их не требует",
    "error_rates": ("доля ошибок {rate:.3f} ({errors} из {n}) против {stable_rate:.3f} ({stable_errors} из "
                    "{stable_n}) у стабильной"),
    "baseline_errors_none": "{rates}: ошибок нет ни у одной версии",
    "baseline_errors_value": "{rates}: односторонний точный тест Фишера p={p:.2g} {sign} {p_max:g}",
    "baseline_latency_within": ("p95 {candidate:.1f} мс против {stable:.1f} мс у стабильной: отношение {ratio:.2f} ≤ "
                                "{ratio_max:g}"),
    "baseline_latency_slack": ("p95 {candidate:.1f} мс против {stable:.1f} мс у стабильной: отношение {ratio:.2f} > "
                               "{ratio_max:g}, но медленнее лишь на {diff:.1f} мс — в пределах допуска {slack:g} мс"),
    "baseline_latency_beyond": ("p95 {candidate:.1f} мс против {stable:.1f} мс у стабильной: отношение {ratio:.2f} > "
                                "{ratio_max:g}, и медленнее на {diff:.1f} мс — сверх допуска {slack:g} мс"),
    "baseline_memory_within": ("пик памяти {candidate:.2f} МиБ против {stable:.2f} МиБ у стабильной: отношение "
                               "{ratio:.2f} ≤ {ratio_max:g}"),
    "baseline_memory_slack": ("пик памяти {candidate:.2f} МиБ против {stable:.2f} МиБ у стабильной: отношение "
                              "{ratio:.2f} > {ratio_max:g}, но больше лишь на {diff:.2f} МиБ — в пределах допуска "
                              "{slack:g} МиБ"),
    "baseline_memory_beyond": ("пик памяти {candidate:.2f} МиБ против {stable:.2f} МиБ у стабильной: отношение "
                               "{ratio:.2f} > {ratio_max:g}, и больше на {diff:.2f} МиБ — сверх допуска {slack:g} МиБ"),
    "baseline_operations_within": ("p95 операций {candidate:.0f} против {stable:.0f} у стабильной: отношение "
                                   "{ratio:.2f} ≤ {ratio_max:g}"),
    "baseline_operations_slack": ("p95 операций {candidate:.0f} против {stable:.0f} у стабильной: отношение "
                                  "{ratio:.2f} > {ratio_max:g}, но больше лишь на {diff:.0f} — в пределах допуска "
                                  "{slack:g}"),
    "baseline_operations_beyond": ("p95 операций {candidate:.0f} против {stable:.0f} у стабильной: отношение "
                                   "{ratio:.2f} > {ratio_max:g}, и больше на {diff:.0f} — сверх допуска {slack:g}"),
    "baseline_latency_unmeasured": "{side} нет записанной задержки: сравнивать нечего",
    "baseline_memory_unmeasured": "{side} пик памяти не измерен: сравнивать нечего",
    "baseline_operations_unmeasured": "{side} нет счётчиков операций: сравнивать нечего",
    # the phase
    "failed_over_limit": ("{n} {n|неудачное измерение|неудачных измерения|неудачных измерений} > failure_limit "
                          "{limit}: {why}"),
    "earlier_windows_failed": "провалились более ранние окна",
    "failures_tolerated": ("{n} {n|неудачное измерение|неудачных измерения|неудачных измерений}, failure_limit "
                           "{limit} {n|его|их|их} допускает: {why}"),
    "needs_a_human": ("{why}; {n} {n|неясное измерение|неясных измерения|неясных измерений} > inconclusive_limit "
                      "{limit}: нужен взгляд человека"),
    # an organ member's health
    "member_not_registered": "не зарегистрирован",
    "member_down": "узел в состоянии {state}",
    "no_recent_requests": "в последнее время запросов не было",
    "member_failing": "доля ошибок {rate:.3f} > {limit:g}",
    "member_ok": "{n} {n|запрос|запроса|запросов}, доля ошибок {rate:.3f}",
}
