"""GET /lti/canvas.json: the configuration a Canvas admin pastes into a developer key."""
from __future__ import annotations

import pytest
import requests


def test_canvas_json_has_what_a_developer_key_needs(tool):
    config = requests.get(f"{tool.base_url}/lti/canvas.json", timeout=10).json()
    base = tool.base_url
    assert config["title"] and config["description"]
    assert config["oidc_initiation_url"] == f"{base}/lti/login"
    assert config["target_link_uri"] == f"{base}/lti/launch"
    assert config["public_jwk_url"] == f"{base}/.well-known/jwks.json"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in config["scopes"]
    assert isinstance(config["custom_fields"], dict)
    (canvas,) = config["extensions"]
    assert canvas["platform"] == "canvas.instructure.com" and canvas["privacy_level"] == "public"
    placements = {p["placement"]: p for p in canvas["settings"]["placements"]}
    assert placements["assignment_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["link_selection"]["message_type"] == "LtiDeepLinkingRequest"
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    keys = requests.get(config["public_jwk_url"], timeout=10).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["kid"] for k in keys)


@pytest.mark.parametrize("person, value, lang", [("u-learner-3", "es-MX", "es"), ("u-test-student", "$Canvas.user.locale", "en")])
def test_canvas_user_locale_custom_field_chooses_the_language(tool, lms_key, person, value, lang):
    """Without launch_presentation.locale, the custom field of canvas.json picks the language;
    a substitution Canvas did not resolve is ignored."""
    from bs4 import BeautifulSoup

    from tests.lms import Browser, resign, submit, unverified
    from tests.worksheet_client import forget

    lti = "https://purl.imsglobal.org/spec/lti/claim/"
    forget(tool.app, person)
    browser = Browser(tool.base_url)
    form = browser.authorize(browser.start(person))
    presentation = dict(unverified(form.fields["id_token"])[1][lti + "launch_presentation"])
    presentation.pop("locale", None)
    form.fields["id_token"] = resign(form.fields["id_token"], lms_key, drop=("locale",), claims={
        lti + "launch_presentation": presentation,
        lti + "custom": {"page": "relationships", "canvas_user_locale": value}})
    page = submit(browser.http, form)
    assert BeautifulSoup(page.text, "html.parser").html["lang"] == lang


def test_pages_carry_a_csp_naming_the_registered_platforms(tool):
    from tests.lms import Browser

    browser = Browser(tool.base_url)
    page = browser.launch("u-learner-1")
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    frame_ancestors = next(d for d in csp.split("; ") if d.startswith("frame-ancestors"))
    assert tool.base_url in frame_ancestors, "the practice LMS (registered) may frame the tool"
    assert "https://*.instructure.com" in frame_ancestors, "a registered hosted Canvas frames from school subdomains"
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in page.headers, "HSTS only over https"
