"""The factory's own tunable modules as implementations: `selector_weights` and `rollout_defaults`.

The nodes `factory.selector.v1` and `factory.rollout.v1` bind them; their params
are the selector's scoring weights and thresholds and the default rollout
policy. Running such a node returns the values its params hold, so a new
version of it (changed or trained params) is a new behaviour of the factory,
served through the route like any node: a canary takes a share of the
factory's own decisions, and the analysis and rollback apply. No code on disk
changes.
"""
from __future__ import annotations

from dataclasses import fields

from neira_factory.domain.selector_weights import SelectorWeights
from neira_factory.domain.templates import SLO, RolloutPolicy
from neira_factory.library.core import About, ImplContext, define

ANY_OBJECT = {"type": "object"}
WEIGHT_PARAMS = {f.name: {"value": f.default, "min": 0.0, "max": 2.0, "tunable": True}
                 for f in fields(SelectorWeights)}
_rollout, _slo = RolloutPolicy(), SLO()
ROLLOUT_PARAMS = {
    "canary_weight": {"value": _rollout.canary_weight, "min": 0.0, "max": 1.0, "tunable": True},
    "experimental_weight": {"value": _rollout.experimental_weight, "min": 0.0, "max": 1.0, "tunable": True},
    "min_requests": {"value": _rollout.min_requests, "min": 0, "max": 1_000_000, "step": 10, "tunable": True},
    "error_rate_max": {"value": _slo.error_rate_max, "min": 0.0, "max": 1.0, "tunable": True},
    "failure_limit": {"value": _rollout.failure_limit, "min": 0, "max": 100, "step": 1, "tunable": True},
}


def _numbers(schema_of: dict) -> dict:
    return {"type": "object", "properties": {name: {"type": "number"} for name in schema_of},
            "required": list(schema_of)}


def _selector_weights(input: dict, params: dict, ctx: ImplContext) -> dict:
    return {name: float(params[name]) for name in WEIGHT_PARAMS}


def _rollout_defaults(input: dict, params: dict, ctx: ImplContext) -> dict:
    values = {name: params[name] for name in ROLLOUT_PARAMS}
    for name in ("min_requests", "failure_limit"):
        values[name] = int(values[name])
    return values


IMPLS = (
    define("selector_weights", _selector_weights, input_schema=ANY_OBJECT, output_schema=_numbers(WEIGHT_PARAMS),
           description="The SelectorNode's scoring weights and min_score, from this node's params.",
           params=WEIGHT_PARAMS,
           about=About(ru="Веса и порог селектора фабрики (SelectorNode) из параметров узла: модуль самой фабрики.",
                       en="The factory's SelectorNode scoring weights and minimum score, from the node's params: "
                          "a module of the factory itself.",
                       words=("селектор", "веса селектора", "оценка кандидатов", "выбор узла", "selector",
                              "weights", "scoring", "min_score", "node selection"),
                       example={})),
    define("rollout_defaults", _rollout_defaults, input_schema=ANY_OBJECT, output_schema=_numbers(ROLLOUT_PARAMS),
           description="The rollout policy a template gets where it sets none, from this node's params.",
           params=ROLLOUT_PARAMS,
           about=About(ru="Политика выката по умолчанию (доля канарейки, минимум запросов, предел ошибок) из "
                          "параметров узла: модуль самой фабрики.",
                       en="The default rollout policy (canary share, minimum requests, error rate limit), from "
                          "the node's params: a module of the factory itself.",
                       words=("выкат", "раскатка", "канарейка", "канареечный", "политика выката", "rollout",
                              "canary", "error rate", "rollout policy", "defaults"),
                       example={})),
)
NAMES = frozenset(impl.name for impl in IMPLS)  # never bound by a node a description or a model proposes
