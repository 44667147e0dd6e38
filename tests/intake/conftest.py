import pytest

from shared.auth import Role


@pytest.fixture
def intake_app(make_app):
    return make_app("intake")


@pytest.fixture
def agent(intake_app, client_for):
    return lambda: client_for(intake_app, Role.AGENT)


CALL = {
    "channel": "phone",
    "caller": {"name": "李雷", "phone": "13812345678", "address": "天河区林和西路1号"},
    "text": "林和西路工地每天晚上十一点后还在施工，噪音很大，回电13812345678",
    "place": "天河区林和西路",
    "ticket_type": "complaint",
    "category": "noise.construction",
    "district": "天河区",
    "street": "林和街道",
    "outcome": "submitted",
}
