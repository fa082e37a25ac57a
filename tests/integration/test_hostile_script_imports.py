"""Hostile `import`s in a script node's source (issue 20): the dry-run looks each imported route up, so a
source naming thousands of routes (in comments, even) is refused for their number, not looked up one by one."""
from __future__ import annotations

from support import auth

from neira_factory.domain.references import MAX_SCRIPT_IMPORTS

WRITE, ADMIN = auth("write"), auth("admin")
IO = {"input": {"type": "object"}, "output": {"type": "object"}}


def test_a_script_naming_too_many_routes_is_refused_for_their_number(client):
    r = client.put("/capabilities/factory_script", json={"state": "experimental", "reason": "t"}, headers=ADMIN)
    assert r.status_code == 200, r.text
    names = "".join(f'// import "analysis.r{i}"\n' for i in range(5000))
    body = {"id": "analysis.many.v1", "version": "0.1.0", "analysis_type": "many", "backend": "script", "io": IO,
            "script": {"source": names + "fn run(input) { input }"}}
    r = client.post("/factory/nodes/dryrun", json=body, headers=WRITE)
    assert r.status_code == 200, r.text
    risks = [x for x in r.json()["report"]["risks"] if x["code"] == "bad_import"]
    assert len(risks) == 1 and risks[0]["severity"] == "blocking", risks[:3]
    assert f"at most {MAX_SCRIPT_IMPORTS}" in risks[0]["message"] and "5000" in risks[0]["message"]
    assert len(r.json()["report"]["links"]) == 0
