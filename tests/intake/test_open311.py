"""Open311 GeoReport v2 against the specification's own examples
(https://wiki.open311.org/GeoReport_v2): the same fields and the same XML shapes, in both
formats, with the standard's errors; requests from registered applications only, reviewed
before their words are published."""

import json
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import text

from shared.auth import Role

# The specification's examples, as published (values are San Francisco's; the shapes are
# what a client relies on).
SPEC_SERVICES_JSON = """[{"service_code":"001","service_name":"Cans left out 24x7",
"description":"Garbage or recycling cans that have been left out for more than 24 hours after
collection. Violators will be cited.","metadata":true,"type":"realtime",
"keywords":"lorem, ipsum, dolor","group":"sanitation"}]"""
SPEC_SERVICES_XML = """<?xml version="1.0" encoding="utf-8"?><services><service>
<service_code>001</service_code><service_name>Cans left out 24x7</service_name>
<description>Garbage or recycling cans that have been left out for more than 24 hours after
collection. Violators will be cited.</description><metadata>true</metadata><type>realtime</type>
<keywords>lorem, ipsum, dolor</keywords><group>sanitation</group></service></services>"""
SPEC_REQUESTS_JSON = """[{"service_request_id":638344,"status":"closed",
"status_notes":"Duplicate request.","service_name":"Sidewalk and Curb Issues",
"service_code":"006","description":null,"agency_responsible":null,"service_notice":null,
"requested_datetime":"2010-04-14T06:37:38-08:00","updated_datetime":"2010-04-14T06:37:38-08:00",
"expected_datetime":"2010-04-15T06:37:38-08:00","address":"8TH AVE and JUDAH ST",
"address_id":545483,"zipcode":94122,"lat":37.762221815,"long":-122.4651145,
"media_url":"http://city.gov.s3.amazonaws.com/requests/media/638344.jpg"}]"""
SPEC_POSTED_JSON = """[{"service_request_id":293944,"service_notice":"The City will inspect and
require the responsible party to correct within 24 hours and/or issue a Correction Notice or
Notice of Violation of the Public Works Code","account_id":null}]"""
SPEC_TOKEN_JSON = """[{"service_request_id":638344,"token":"12345"}]"""
SPEC_ERROR_XML = """<?xml version="1.0" encoding="utf-8"?><errors><error><code>403</code>
<description>Invalid api_key</description></error></errors>"""
SPEC_ERROR_JSON = """[{"code":403,"description":"Invalid api_key"}]"""

POST = {
    "service_code": "city_appearance.sanitation",
    "lat": "23.1375",
    "long": "113.3245",
    "address_string": "天河区天河路385号",
    "description": "天河路385号门口垃圾桶满溢三天无人清运，气味很大",
    "first_name": "四",
    "last_name": "李",
    "phone": "13600003333",
}


def _keys(document: str) -> set[str]:
    return set(json.loads(document.replace("\n", " "))[0])


def _shape(element: ET.Element) -> tuple:
    """An XML document's tags, nested: what a client walks."""
    return (element.tag, tuple(sorted({_shape(child) for child in element})))


@pytest.fixture
def intake_app(make_app):
    return make_app("intake")


@pytest.fixture
async def api_key(intake_app, client_for) -> str:
    async with client_for(intake_app, Role.ADMIN) as admin:
        registered = await admin.post("/v1/open311/clients", json={"name": "市民随手拍 App"})
    assert registered.status_code == 201, registered.text
    return registered.json()["api_key"]


async def test_the_service_list_has_the_specifications_fields_in_json_and_xml(
    intake_app, client_for
):
    async with client_for(intake_app) as anyone:
        as_json = await anyone.get("/open311/v2/services.json")
        as_xml = await anyone.get("/open311/v2/services.xml")
    services = as_json.json()
    assert set(services[0]) == _keys(SPEC_SERVICES_JSON)
    noise = next(s for s in services if s["service_code"] == "noise.construction")
    assert noise["service_name"] == "施工噪声" and noise["group"] == "噪声扰民"
    assert "夜间" in noise["description"] and "工地" in noise["keywords"]
    assert as_xml.headers["content-type"].startswith("text/xml")
    ours = ET.fromstring(as_xml.content)
    assert _shape(ours) == _shape(ET.fromstring(SPEC_SERVICES_XML))
    assert len(ours) == len(services)
    assert ours[0].find("metadata").text == "false"


async def test_a_service_definition_and_an_unknown_service(intake_app, client_for):
    async with client_for(intake_app) as anyone:
        found = await anyone.get("/open311/v2/services/noise.construction.json")
        missing = await anyone.get("/open311/v2/services/no.such.xml")
    assert found.json() == {"service_code": "noise.construction", "attributes": []}
    assert missing.status_code == 404
    error = ET.fromstring(missing.content)
    assert error.tag == "errors" and error.find("error/code").text == "404"


async def test_posting_needs_a_registered_key_and_answers_as_the_specification_does(
    intake_app, client_for, api_key
):
    async with client_for(intake_app) as app_client:
        refused_json = await app_client.post(
            "/open311/v2/requests.json", data={**POST, "api_key": "o311_wrong"}
        )
        refused_xml = await app_client.post(
            "/open311/v2/requests.xml", data={**POST, "api_key": "o311_wrong"}
        )
        posted = await app_client.post(
            "/open311/v2/requests.json", data={**POST, "api_key": api_key}
        )
        as_xml = await app_client.post(
            "/open311/v2/requests.xml", data={**POST, "api_key": api_key}
        )
    assert refused_json.status_code == refused_xml.status_code == 403
    assert set(refused_json.json()[0]) == _keys(SPEC_ERROR_JSON)
    assert _shape(ET.fromstring(refused_xml.content)) == _shape(ET.fromstring(SPEC_ERROR_XML))
    [answer] = posted.json()
    # The standard's fields, and a token (it lets a client look the id up again later).
    assert set(answer) == _keys(SPEC_POSTED_JSON) | {"token"}
    assert answer["service_request_id"].startswith("GZ")
    assert answer["service_notice"] == "已收到，待受理审核"
    assert ET.fromstring(as_xml.content).find("request/service_request_id").text.startswith("GZ")
    async with client_for(intake_app) as anyone:
        token = await anyone.get(f"/open311/v2/tokens/{answer['token']}.json")
    assert token.json() == [
        {"service_request_id": answer["service_request_id"], "token": answer["token"]}
    ]
    assert set(token.json()[0]) == _keys(SPEC_TOKEN_JSON)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"service_code": ""}, "service_code required"),
        ({"service_code": "noise"}, "no service"),  # a group, not a service
        ({"lat": "", "long": "", "address_string": ""}, "location is required"),
        ({"lat": "north"}, "decimal degrees"),
        ({"description": ""}, "description is required"),
        ({"phone": "12"}, "phone"),
    ],
)
async def test_a_bad_request_is_told_what_is_wrong_in_the_standards_shape(
    intake_app, client_for, api_key, session, change, says
):
    async with client_for(intake_app) as app_client:
        answer = await app_client.post(
            "/open311/v2/requests.json", data={**POST, "api_key": api_key, **change}
        )
    assert answer.status_code in (400, 404)
    [error] = answer.json()
    assert error["code"] == answer.status_code and says in error["description"]
    assert await session.scalar(text("SELECT count(*) FROM intake.submission")) == 0


async def test_a_request_is_published_only_once_reviewed_as_an_ordinary_matter(
    intake_app, client_for, api_key
):
    async with client_for(intake_app) as app_client:
        posted = (
            await app_client.post("/open311/v2/requests.json", data={**POST, "api_key": api_key})
        ).json()[0]
        number = posted["service_request_id"]
        before = (await app_client.get(f"/open311/v2/requests/{number}.json")).json()[0]
    assert set(before) == _keys(SPEC_REQUESTS_JSON)
    assert before["status"] == "open" and before["status_notes"] == "已收到，待受理审核"
    assert before["description"] is None and before["lat"] is None  # not reviewed: not shown

    async with client_for(intake_app, Role.AGENT) as agent:
        [item] = (await agent.get("/v1/submissions")).json()["items"]
        assert item["source"] == "open311" and item["client_name"] == "市民随手拍 App"
        review = {
            "ticket_type": "complaint",
            "category": "city_appearance.sanitation",
            "district": "天河区",
            "outcome": "submitted",
        }
        assert (
            await agent.post(f"/v1/submissions/{item['id']}/review", json=review)
        ).status_code == 201

    async with client_for(intake_app) as anyone:
        after = (await anyone.get(f"/open311/v2/requests/{number}.json")).json()[0]
        listed = (await anyone.get("/open311/v2/requests.json", params={"status": "open"})).json()
        closed = (await anyone.get("/open311/v2/requests.json", params={"status": "closed"})).json()
        by_code = await anyone.get(
            "/open311/v2/requests.xml", params={"service_code": "noise.traffic"}
        )
        as_xml = await anyone.get(f"/open311/v2/requests/{number}.xml")
        too_wide = await anyone.get(
            "/open311/v2/requests.json",
            params={
                "start_date": "2026-01-01T00:00:00+08:00",
                "end_date": "2026-06-01T00:00:00+08:00",
            },
        )
        unknown = await anyone.get("/open311/v2/requests/GZ000000000000.json")
    assert after["status"] == "open" and after["status_notes"] == "已受理，正在派单"
    assert "垃圾桶满溢" in after["description"] and "13600003333" not in after["description"]
    assert (after["lat"], after["long"]) == (23.1375, 113.3245)
    assert after["requested_datetime"].endswith("+08:00")
    assert [r["service_request_id"] for r in listed] == [number] and closed == []
    assert ET.fromstring(by_code.content).findall("request") == []
    request_xml = ET.fromstring(as_xml.content)
    assert (
        request_xml.tag == "service_requests" and request_xml.find("request/status").text == "open"
    )
    assert too_wide.status_code == 400 and "90 days" in too_wide.json()[0]["description"]
    assert unknown.status_code == 404


async def test_a_withdrawn_application_can_post_no_more(intake_app, client_for, api_key):
    async with client_for(intake_app, Role.ADMIN) as admin:
        [registered] = (await admin.get("/v1/open311/clients")).json()["items"]
        assert "api_key" not in registered or registered["api_key"] is None  # shown once only
        await admin.delete(f"/v1/open311/clients/{registered['id']}")
    async with client_for(intake_app) as app_client:
        refused = await app_client.post(
            "/open311/v2/requests.json", data={**POST, "api_key": api_key}
        )
    assert refused.status_code == 403
