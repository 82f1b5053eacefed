"""Process models through the API (admins): list versions, deploy a new one after
validation and the test bench; refusals name the element or the scenario."""

from __future__ import annotations

from webapp.models import AuditLog, ProcessVersion
from workflows import deploy

SKIP, SKIP_DMN = deploy.read_files("skip_grade")


def test_admins_list_every_procedure_and_variant(api, world):
    items = api("admin").get("/api/v1/models").get_json()["items"]
    keys = {(i["procedure"], i["variant"]) for i in items}
    assert ("transfer", "default") in keys and ("skip_grade", "shandong") in keys
    transfer = next(i for i in items if i["procedure"] == "transfer" and i["variant"] == "default")
    assert transfer["versions"][0]["version"] == 1
    assert transfer["versions"][0]["created_by"] is None  # deployed from the files
    assert api("u321202").get("/api/v1/models").status_code == 403


def test_a_valid_model_becomes_the_next_version(api, world):
    edited = SKIP.replace('name="学校审核', 'name="学校审核（教导处）', 1)
    assert edited != SKIP
    resp = api("admin").post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": edited, "dmn": SKIP_DMN}
    )
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json() == {"procedure": "skip_grade", "variant": "default", "version": 2}
    version = deploy.latest("skip_grade")
    assert version.version == 2 and version.created_by.username == "admin"
    assert AuditLog.query.filter_by(action="model.deploy").count() == 1
    again = api("admin").post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": edited, "dmn": SKIP_DMN}
    )
    assert again.get_json()["version"] == 2  # unchanged: no new version, nothing audited
    assert AuditLog.query.filter_by(action="model.deploy").count() == 1


def test_an_invalid_model_is_422_with_the_element(api, world):
    broken = SKIP.replace('name="county"', 'name="district"')
    resp = api("admin").post("/api/v1/models/skip_grade/versions", json={"bpmn_xml": broken})
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert any(f["element"] == "lane_county" and "泳道" in f["message"] for f in fields), fields
    assert ProcessVersion.query.filter_by(procedure="skip_grade", variant="default").count() == 1


def test_a_model_that_fails_its_scenarios_is_not_deployed(api, world):
    table = SKIP_DMN["skip_grade_policy.dmn"]
    forbid = {**SKIP_DMN, "skip_grade_policy.dmn": table.replace(">True<", ">False<")}
    assert forbid != SKIP_DMN
    resp = api("admin").post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": SKIP, "dmn": forbid}
    )
    assert resp.status_code == 422
    fields = resp.get_json()["error"]["fields"]
    assert fields and all(f["element"].startswith("scenario:") for f in fields), fields
    assert deploy.latest("skip_grade").version == 1


def test_unknown_procedure_is_404(api, world):
    resp = api("admin").post("/api/v1/models/teleport/versions", json={"bpmn_xml": SKIP})
    assert resp.status_code == 404


def test_sync_keeps_an_admins_version_until_the_files_change(app, api, world):
    edited = SKIP.replace('name="学校审核', 'name="学校审核（教导处）', 1)
    api("admin").post(
        "/api/v1/models/skip_grade/versions", json={"bpmn_xml": edited, "dmn": SKIP_DMN}
    )
    deploy.sync_files()
    assert deploy.latest("skip_grade").version == 2
