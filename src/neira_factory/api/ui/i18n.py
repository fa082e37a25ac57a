"""The admin UI's labels in English and Russian; the language comes from the `neira_lang` cookie (the
switch in the header), else from the browser's Accept-Language, else English. A label may choose a word form by a
number (`{n|запрос|запроса|запросов}`, domain/reasons.py's `fill`); reasons that carry a `why` are rendered in the
page's language by `reason`.

Identifiers (states, actions' codes, ids, error codes) stay as the API spells them in both languages.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...domain.reasons import fill, words
from .reason_texts import RUSSIAN

LANGUAGES = ("en", "ru")
REASONS: dict[str, Mapping[str, str]] = {"ru": RUSSIAN}  # English: domain/reasons.py, the API's `reason` strings
DEFAULT = "en"

MESSAGES: dict[str, tuple[str, str]] = {  # key: (English, Russian)
    "app_name": ("Neira factory", "Фабрика Neira"),
    "nav_nodes": ("Nodes", "Узлы"),
    "nav_approvals": ("Pending approvals", "Ждут решения"),
    "nav_organs": ("Organs", "Органы"),
    "nav_capabilities": ("Capabilities", "Способности"),
    "nav_audit": ("Audit", "Аудит"),
    "nav_training": ("Training", "Обучение"),
    "nav_commands": ("Command", "Команда"),
    "scope_read": ("read", "чтение"),
    "scope_write": ("write", "запись"),
    "scope_admin": ("admin", "администратор"),
    "sign_in": ("Sign in", "Войти"),
    "sign_out": ("Sign out", "Выйти"),
    "sign_in_hint": (("Paste an API token (admin, write or read). The browser keeps only a signed session "
                      "cookie, never the token."),
                     ("Вставьте токен API (admin, write или read). Браузер хранит только подписанную cookie "
                      "сессии, но не сам токен.")),
    "field_token": ("Token", "Токен"),
    "field_reason": ("Reason", "Причина"),
    "field_search": ("Search", "Поиск"),
    "field_state": ("State", "Состояние"),
    "field_kind": ("Kind", "Вид"),
    "field_backend": ("Backend", "Бэкенд"),
    "field_route": ("Route", "Маршрут"),
    "field_iteration": ("Iteration (empty: the best)", "Итерация (пусто — лучшая)"),
    "field_text": ("Command", "Команда"),
    "field_confirm_token": ("Confirmation token", "Токен подтверждения"),
    "live_updates": ("Live updates", "Обновления в реальном времени"),
    "safe_mode": ("Safe-mode", "Безопасный режим"),
    "safe_mode_on": ("SAFE-MODE", "БЕЗОПАСНЫЙ РЕЖИМ"),
    "safe_mode_hint": ("While safe-mode is on, every write needs an admin and only stable versions serve.",
                       ("Пока включён безопасный режим, любая запись требует администратора, а трафик получают "
                        "только стабильные версии.")),
    "safe_mode_turn_on": ("Turn safe-mode on", "Включить безопасный режим"),
    "safe_mode_turn_off": ("Turn safe-mode off", "Выключить безопасный режим"),
    "on": ("on", "включён"),
    "off": ("off", "выключен"),
    "any": ("any", "любое"),
    "filter": ("Filter", "Фильтр"),
    "clear": ("clear", "сбросить"),
    "search_placeholder": ("id, type or route", "id, тип или маршрут"),
    "reason_placeholder": ("why (kept in the audit trail)", "почему (сохраняется в журнале аудита)"),
    "iteration_placeholder": ("best", "лучшая"),
    "new_nodes_reload": ("New nodes were created — reload the list", "Созданы новые узлы — обновите список"),
    "no_nodes": ("No nodes match.", "Подходящих узлов нет."),
    "no_organs": ("No organs yet.", "Органов пока нет."),
    "no_entries": ("No audit entries match.", "Подходящих записей нет."),
    "no_runs": ("No training runs yet.", "Запусков обучения пока нет."),
    "no_actions": ("No lifecycle action is possible from this state.",
                   "Из этого состояния действий жизненного цикла нет."),
    "col_id": ("Id", "Id"),
    "col_state": ("State", "Состояние"),
    "col_kind": ("Kind", "Вид"),
    "col_backend": ("Backend", "Бэкенд"),
    "col_route": ("Route", "Маршрут"),
    "col_version": ("Version", "Версия"),
    "col_created_by": ("Created by", "Создал"),
    "col_updated": ("Updated", "Изменён"),
    "col_updated_by": ("Changed by", "Изменил"),
    "col_when": ("When", "Когда"),
    "col_action": ("Action", "Действие"),
    "col_from": ("From", "Из"),
    "col_to": ("To", "В"),
    "col_actor": ("Actor", "Кто"),
    "col_reason": ("Reason", "Причина"),
    "col_metric": ("Metric", "Метрика"),
    "col_value": ("Value", "Значение"),
    "col_threshold": ("Threshold", "Порог"),
    "col_input": ("Input", "Вход"),
    "col_expected": ("Expected", "Ожидалось"),
    "col_output": ("Output", "Выход"),
    "col_ok": ("OK", "ОК"),
    "col_waiting_for": ("Waiting for", "Что ждёт"),
    "col_detail": ("Detail", "Подробности"),
    "col_node": ("Node", "Узел"),
    "col_health": ("Health", "Здоровье"),
    "col_error_rate": ("Error rate", "Доля ошибок"),
    "col_gate": ("Gate", "Шлюз"),
    "col_change": ("Change", "Изменение"),
    "col_resource": ("Resource", "Ресурс"),
    "col_run": ("Run", "Запуск"),
    "col_objective": ("Objective", "Цель"),
    "col_iterations": ("Iterations", "Итерации"),
    "col_best": ("Best", "Лучший"),
    "col_step": ("Step", "Шаг"),
    "col_target": ("Target", "Цель"),
    "col_policy": ("Policy", "Политика"),
    "prev_state": ("State before quarantine", "Состояние до карантина"),
    "actions": ("Actions", "Действия"),
    "action_approve": ("Approve", "Одобрить"),
    "action_rollback": ("Roll back", "Откатить"),
    "action_disable": ("Disable", "Отключить"),
    "action_quarantine": ("Quarantine", "Карантин"),
    "action_release": ("Release", "Выпустить из карантина"),
    "action_fail": ("Cancel build", "Отменить сборку"),
    "action_reject": ("Reject", "Отклонить"),
    "action_continue": ("Continue", "Продолжить"),
    "dialog_moves_to": ("The state becomes {to}.", "Новое состояние: {to}."),
    "force_label": ("Force (admin): approve although the analysis has not passed",
                    "Принудительно (администратор): одобрить, хотя анализ не пройден"),
    "confirm_label": ("I confirm this action", "Подтверждаю это действие"),
    "confirm": ("Confirm", "Подтвердить"),
    "cancel": ("Cancel", "Отмена"),
    "policy_refuses": ("The policy refuses", "Политика запрещает"),
    "analysis_window": ("Analysis window", "Окно анализа"),
    "phase": ("Phase", "Фаза"),
    "verdict": ("Verdict", "Вердикт"),
    "verdict_pass": ("pass", "пройдено"),
    "verdict_fail": ("fail", "провал"),
    "verdict_inconclusive": ("inconclusive", "неясно"),
    "requests": ("Requests", "Запросы"),
    "min_requests": ("needed", "нужно"),
    "needs_human": ("needs a human", "нужен человек"),
    "not_a_candidate": ("not a candidate (only canary and experimental versions are graduated by analysis)",
                        "не кандидат (анализ решает только для canary и experimental)"),
    "chart_requests": ("Requests", "Запросы"),
    "chart_errors": ("Errors", "Ошибки"),
    "chart_latency": ("Latency", "Задержка"),
    "per_window": ("per window", "за окно"),
    "no_data_yet": ("no data yet", "данных пока нет"),
    "windows_note": ("{n} windows of {s} s since the node entered its state",
                     "{n} окон по {s} с с момента входа в текущее состояние"),
    "baseline": ("Stable baseline", "Стабильная база"),
    "resources": ("Resources", "Ресурсы"),
    "operations_p95": ("operations p95", "p95 операций"),
    "memory_peak": ("memory peak", "пик памяти"),
    "mib": ("MiB", "МиБ"),
    "measurements": ("Measurements", "Измерения"),
    "dry_run_report": ("Dry-run report", "Отчёт пробного запуска"),
    "no_risks": ("No risks.", "Рисков нет."),
    "integrations": ("Required integrations", "Необходимые интеграции"),
    "col_requirement": ("Requirement", "Требование"),
    "col_evidence": ("Evidence", "Подтверждение"),
    "implicit": ("implicit", "неявное"),
    "integration_metrics_registered": ("counted in the RED metrics with route={route}, version={version}",
                                       "учитывается в RED-метриках с route={route}, version={version}"),
    "integration_digest_pinned": ("the template is pinned as sha256 {sha256} and re-verified at every load",
                                  "шаблон закреплён как sha256 {sha256} и проверяется при каждой загрузке"),
    "integration_memory_served": ("{node} ({state}) serves route {route} from store {store}",
                                  "{node} ({state}) обслуживает маршрут {route} из хранилища {store}"),
    "integration_memory_not_served": ("no memory node serves route {route} ({why})",
                                      "ни один узел памяти не обслуживает маршрут {route} ({why})"),
    "integration_node_present": ("{node} is {state}", "{node} в состоянии {state}"),
    "integration_node_gone": ("{node} is {state} and does not serve", "{node} в состоянии {state} и не работает"),
    "integration_route_live": ("route {route} is served by {node} ({state})",
                               "маршрут {route} обслуживает {node} ({state})"),
    "integration_route_not_live": ("route {route} has no live version; its newest is {node} ({state})",
                                   "у маршрута {route} нет живой версии; самая новая — {node} ({state})"),
    "integration_node_unknown": ("no node or route is called {node}", "нет ни узла, ни маршрута {node}"),
    "integration_gate_open": ("gate {gate} is open ({state})", "шлюз {gate} открыт ({state})"),
    "integration_gate_closed": ("gate {gate} is closed ({state})", "шлюз {gate} закрыт ({state})"),
    "integration_gate_unknown": ("no such gate: {gate}", "такого шлюза нет: {gate}"),
    "examples": ("Examples", "Примеры"),
    "links": ("Links", "Связи"),
    "selector": ("Selector", "Селектор"),
    "history": ("Transition history", "История переходов"),
    "no_history": ("No transition recorded.", "Переходов не записано."),
    "template": ("Template", "Шаблон"),
    "forced": ("forced", "принудительно"),
    "approvals_hint": (("Everything waiting for a human, newest first: drafts, candidates whose analysis passed "
                        "(or that need a human), and training runs waiting for a decision."),
                       ("Всё, что ждёт решения человека, новые сверху: черновики, кандидаты с пройденным анализом "
                        "(или требующие человека) и запуски обучения, ждущие решения.")),
    "pending_type_draft": ("approval of a draft", "одобрения черновика"),
    "pending_type_analysis": ("graduation (analysis)", "продвижения (анализ)"),
    "pending_type_training": ("a training decision", "решения по обучению"),
    "pending_draft": ("dry-run done; approve to send it canary traffic",
                      "пробный запуск выполнен; одобрите, чтобы пустить canary-трафик"),
    "nothing_pending": ("Nothing is waiting for a human.", "Ничто не ждёт решения человека."),
    "review": ("review", "открыть"),
    "graph": ("Graph", "Граф"),
    "graph_legend": (("Nodes are coloured by their state now: draft grey, canary yellow, experimental orange, "
                      "stable green, rolled back / failed red, quarantined purple, missing dashed red."),
                     ("Узлы окрашены по текущему состоянию: draft — серый, canary — жёлтый, experimental — "
                      "оранжевый, stable — зелёный, rolled back / failed — красный, quarantined — фиолетовый, "
                     "отсутствующий — красный пунктир.")),
    "status": ("Status", "Состояние"),
    "health_ok": ("ok", "в норме"),
    "health_failing": ("failing", "сбоит"),
    "health_no_data": ("no data", "нет данных"),
    "health_down": ("down", "не работает"),
    "organ_numbers": ("The organ's own numbers over the last {s} s: {r} requests.",
                      "Собственные цифры органа за последние {s} с: запросов — {r}."),
    "gates": ("Capability gates", "Шлюзы способностей"),
    "gates_hint": (("locked: off until an admin unlocks it · experimental: on, dry-run and HITL mandatory · "
                    "stable: on · deprecated, disabled: off. Every change is audited."),
                   ("locked — выключено, пока администратор не откроет · experimental — включено, пробный запуск и "
                    "человек обязательны · stable — включено · deprecated, disabled — выключено. Каждое изменение "
                   "записывается в аудит.")),
    "set": ("Set", "Изменить"),
    "chain_ok": ("Audit chain verified", "Цепочка аудита проверена"),
    "chain_broken": ("Audit chain is BROKEN", "Цепочка аудита НАРУШЕНА"),
    "chain_checked": ("{n} entries checked", "проверено записей: {n}"),
    "show": ("show", "показать"),
    "training_hint": (("A run's result changes nothing until a human approves it: approval creates a new draft "
                       "version of the node."),
                      ("Результат обучения ничего не меняет, пока человек его не одобрит: одобрение создаёт новую "
                       "версию узла в состоянии draft.")),
    "needs_decision": ("needs a decision", "нужно решение"),
    "maximize": ("maximised", "максимизируется"),
    "minimize": ("minimised", "минимизируется"),
    "dataset": ("Dataset", "Набор данных"),
    "result_node": ("Created version", "Созданная версия"),
    "decision": ("Decision", "Решение"),
    "decisions": ("Decisions", "Решения"),
    "metric_plot": ("Metric per iteration", "Метрика по итерациям"),
    "no_iterations": ("No iteration yet.", "Итераций пока нет."),
    "params": ("Params", "Параметры"),
    "failed": ("Failed", "Неудачных"),
    "error": ("Error", "Ошибка"),
    "error_code": ("Code", "Код"),
    "back": ("back", "назад"),
    "command_label": ("What should the factory do? (Russian or English)", "Что сделать фабрике? (по-русски или по-английски)"),
    "command_placeholder": ("создай голосовой орган v1 · upgrade vision to v2 (grayscale)",
                            "создай голосовой орган v1 · upgrade vision to v2 (grayscale)"),
    "command_hint": ("Nothing is made until you confirm the plan; what is made starts as drafts.",
                     "Ничего не создаётся, пока вы не подтвердите план; созданное начинает как черновики."),
    "plan": ("Plan", "План"),
    "intent": ("Understood", "Понято"),
    "read_by_llm": ("Read by the model {provider}/{model}, not by the rules (they stopped at: {words}): check "
                    "the plan before confirming.",
                    "Прочитано моделью {provider}/{model}, а не правилами (они не поняли: {words}): проверьте план "
                    "перед подтверждением."),
    "llm_did_not_help": ("The model {provider}/{model} did not help either: {outcome}.",
                         "Модель {provider}/{model} тоже не помогла: {outcome}."),
    "allowed": ("allowed", "разрешено"),
    "refused": ("refused", "запрещено"),
    "policy_allows_plan": ("The policy allows every step.", "Политика разрешает все шаги."),
    "policy_refuses_plan": ("The policy refuses this plan for you.", "Политика запрещает вам этот план."),
    "diff": ("Diff", "Изменения"),
    "confirm_plan": ("Confirm and make it", "Подтвердить и выполнить"),
    "confirm_plan_label": ("I have read the plan and the diff", "Я прочитал план и изменения"),
    "confirm_plan_hint": ("The confirmation is valid for 15 minutes, once, for you only.",
                          "Подтверждение действует 15 минут, один раз и только для вас."),
    "read_only_plan": ("This command only reads: nothing to confirm.",
                       "Эта команда только читает: подтверждать нечего."),
    "not_understood": ("Not understood", "Не понято"),
    "understood": ("Understood", "Понято"),
    "not_understood_words": ("Not understood", "Не понято"),
    "suggestions": ("Suggestions", "Подсказки"),
    "command_done": ("Done", "Выполнено"),
    "created_are_drafts": ("What was made is a draft: it follows the usual lifecycle.",
                           "Созданное — черновики: дальше обычный жизненный цикл."),
    "steps_done": ("Steps done", "Выполненные шаги"),
    "previous_page": ("previous", "назад"),
    "next_page": ("next", "дальше"),
    "done_transition": ("{id}: {action} done ({previous} → {state}).", "{id}: «{action}» выполнено ({previous} → {state})."),
    "done_capability": ("{name}: {previous} → {state}.", "{name}: {previous} → {state}."),
    "done_safe_mode_on": ("Safe-mode is on.", "Безопасный режим включён."),
    "done_safe_mode_off": ("Safe-mode is off.", "Безопасный режим выключен."),
    "done_training": ("{run}: {action} done (now {state}).", "{run}: «{action}» выполнено (теперь {state})."),
    "done_training_draft": ("New draft: {id}.", "Новый черновик: {id}."),
    "err_required": ("{field} is required.", "Поле «{field}» обязательно."),
    "err_confirm": ("Tick the confirmation box to go on.", "Отметьте подтверждение, чтобы продолжить."),
    "err_csrf": (("The form has expired or did not come from this site (CSRF check failed). Reload the page and "
                  "try again."),
                 ("Форма устарела или отправлена не с этого сайта (проверка CSRF не пройдена). Обновите страницу "
                  "и повторите.")),
    "err_bad_token": ("This token is not known.", "Такой токен неизвестен."),
    "err_signed_out": ("You are not signed in (or the session has ended).", "Вы не вошли (или сессия закончилась)."),
    "err_unknown_action": ("Unknown action {action}.", "Неизвестное действие {action}."),
    "err_unknown_language": ("Unknown language {code}.", "Неизвестный язык {code}."),
    "err_no_page": ("There is no page {path}.", "Страницы {path} нет."),
    "memory": ("Memory", "Память"),
    "memory_open": ("records, search, export", "записи, поиск, выгрузка"),
    "memory_store": ("Store", "Хранилище"),
    "memory_records": ("Records", "Записи"),
    "memory_evictions": ("Evicted", "Вытеснено"),
    "memory_language": ("Language", "Язык"),
    "memory_retention": ("Retention", "Срок хранения"),
    "memory_retention_days": ("{n} days without use", "{n} дн. без использования"),
    "memory_kept": ("until evicted", "до вытеснения"),
    "memory_export": ("Export all records (JSON Lines)", "Выгрузить все записи (JSON Lines)"),
    "memory_search_placeholder": ("words to look for", "что искать"),
    "memory_no_results": ("Nothing found.", "Ничего не найдено."),
    "memory_no_records": ("No records yet.", "Записей пока нет."),
    "search_button": ("Search", "Найти"),
    "first_page": ("first page", "в начало"),
    "field_id": ("Id", "Id"),
    "col_type": ("Type", "Тип"),
    "col_description": ("Description", "Описание"),
    "col_keywords": ("Keywords", "Ключевые слова"),
    "col_credibility": ("Credibility", "Достоверность"),
    "col_priority": ("Priority", "Приоритет"),
    "col_score": ("Score", "Оценка"),
    "action_forget": ("Forget", "Забыть"),
    "forget_title": ("Forget record {id}?", "Забыть запись {id}?"),
    "forget_hint": (("The record is deleted from store {store}, for every version of the route, and the deletion "
                     "is audited. It cannot be undone: export the store first to keep a copy."),
                    ("Запись удаляется из хранилища {store} для всех версий маршрута; удаление записывается в "
                     "аудит. Отменить нельзя: чтобы сохранить копию, сначала выгрузите хранилище.")),
    "done_forget": ("Record {id} forgotten.", "Запись {id} забыта."),
    "done_forget_none": ("There was no record {id}: nothing forgotten.", "Записи {id} нет: забывать нечего."),
    "error_title_not_memory_node": ("Not a memory node", "Это не узел памяти"),
    "error_title_no_live_version": ("Nothing serves this route", "Маршрут ничего не обслуживает"),
    "error_title_insufficient_scope": ("Not allowed for your scope", "Недостаточно прав"),
    "error_title_safe_mode": ("Refused: safe-mode is on", "Отказано: включён безопасный режим"),
    "error_title_capability_disabled": ("Refused: a capability gate is closed", "Отказано: шлюз способности закрыт"),
    "error_title_four_eyes": ("Refused: four-eyes rule", "Отказано: правило четырёх глаз"),
    "error_title_csrf_failed": ("Refused: CSRF check failed", "Отказано: проверка CSRF не пройдена"),
    "error_title_unauthorized": ("Sign in first", "Сначала войдите"),
    "error_title_not_found": ("Not found", "Не найдено"),
    "error_title_invalid_transition": ("This transition is not possible now", "Этот переход сейчас невозможен"),
    "error_title_analysis_not_passed": ("The analysis has not passed", "Анализ не пройден"),
    "error_title_invalid_input": ("Check the form", "Проверьте форму"),
    "error_title_confirmation_required": ("Confirmation required", "Нужно подтверждение"),
}


def translate(lang: str, key: str, default: str | None = None, **values: Any) -> str:
    pair = MESSAGES.get(key)
    if pair is None:
        text = default if default is not None else key
    else:
        text = pair[LANGUAGES.index(lang)] if lang in LANGUAGES else pair[0]
    return fill(text, values, lang) if values else text


def reason(lang: str, why: Mapping[str, Any] | None, default: str = "") -> str:
    """A reason's `why` ({code, params}) in the page's language; `default` (its English `reason`) without one."""
    return words(why, REASONS.get(lang), lang) if why else default


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The switch's cookie wins; else the best of Accept-Language (q-values honoured); else English."""
    if cookie in LANGUAGES:
        return cookie
    best, best_q = DEFAULT, -1.0
    for i, part in enumerate((accept_language or "").split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if lang in LANGUAGES and q > 0 and q - i * 1e-6 > best_q:
            best, best_q = lang, q - i * 1e-6
    return best
