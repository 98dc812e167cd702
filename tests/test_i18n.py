"""The tool speaks the launch's language: Spanish for es / es-MX launches, English otherwise (over real HTTP)."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from lti_tool.paths import TRANSLATIONS_DIR
from tests.lms import Login, parse_form, resign, submit, unverified

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SPANISH_LEARNER = "u-learner-3"  # the roster's locale for this person is "en": the launch overrides it
ENGLISH_LEARNER = "u-learner-1"


def launch(browser, person: str, locale: str | None = None, link: str = "rl-relationships"):
    """Browser.launch with an optional ?locale= on the practice LMS's launch start; (response, id_token claims)."""
    params = {"person": person, "link": link, "mode": "moodle", "method": "get"}
    if locale is not None:
        params["locale"] = locale
    page = browser.http.get(f"{browser.base_url}/dev/lms/launch", params=params)
    page.raise_for_status()
    response = submit(browser.http, parse_form(page.text), allow_redirects=False)
    assert response.status_code in (302, 303), f"login answered {response.status_code}: {response.text[:500]}"
    location = response.headers["Location"]
    login = Login(auth_url=location, params={k: v[0] for k, v in parse_qs(urlsplit(location).query).items()})
    form = browser.authorize(login)
    _, claims = unverified(form.fields["id_token"])
    landed = submit(browser.http, form)
    assert landed.status_code == 200, landed.text[:2000]
    return landed, claims


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def text_of(soup: BeautifulSoup, selector: str) -> str:
    node = soup.select_one(selector)
    assert node is not None, f"no {selector} in page"
    return " ".join(node.get_text(" ", strip=True).split())


def js_strings_of(soup: BeautifulSoup) -> dict[str, str]:
    return json.loads(soup.select_one("#worksheet")["data-i18n"])


def test_practice_lms_sends_the_locale_override(browser):
    _, claims = launch(browser, SPANISH_LEARNER, locale="es-MX")
    assert claims[LTI + "launch_presentation"]["locale"] == "es-MX"
    assert claims["locale"] == "es-MX"
    _, claims = launch(browser, SPANISH_LEARNER)
    assert claims[LTI + "launch_presentation"]["locale"] == "en"


def test_practice_lms_refuses_a_malformed_locale(browser):
    page = browser.http.get(f"{browser.base_url}/dev/lms/launch", params={
        "person": SPANISH_LEARNER, "link": "rl-relationships", "mode": "moodle", "method": "get",
        "locale": "<script>"})
    assert page.status_code == 400
    assert "locale" in page.text


def test_spanish_learner_sees_spanish_worksheet(browser):
    response, _ = launch(browser, SPANISH_LEARNER, locale="es")
    soup = soup_of(response)
    assert soup.html["lang"] == "es"
    assert text_of(soup, "#save-draft") == "Guardar borrador"
    assert text_of(soup, "#submit") == "Enviar"
    assert text_of(soup, "#add-row") == "Agregar alianza"
    assert text_of(soup, "#checklist-title") == "Para completar esta hoja de trabajo"
    assert text_of(soup, ".ws-questions legend") == "Preguntas de reflexión"
    assert re.fullmatch(r"Una alianza por fila\. Hasta \d+\.", text_of(soup, "#rows-help"))
    # Other tests may have saved or submitted this learner's worksheet: any of its states, in Spanish.
    assert re.fullmatch(r"Aún no se ha comenzado\.|Borrador: aún no se ha enviado\.|"
                        r"Enviada el .+\.( Tiene cambios que aún no ha enviado\.)?", text_of(soup, ".submission-status"))
    assert text_of(soup, ".print-link") == "Vista para imprimir"
    assert text_of(soup, ".who").startswith("Sesión iniciada a través de su LMS como")
    labels = [b.contents[0].strip() for b in soup.select(".ws-row:first-child .row-actions button")]
    assert labels == ["Subir", "Bajar", "Eliminar"]
    checklist = [text_of(li, "span[dir=auto]") for li in soup.select("#checklist li")]
    assert checklist[0].startswith("Al menos 1 fila con: ")
    assert all(item.startswith("Responder: ") for item in checklist[1:]) and len(checklist) > 1
    assert {text_of(li, ".state") for li in soup.select("#checklist li")} <= {"Hecho:", "Pendiente:"}
    for english in ("Save draft", "Add partnership", "Reflection questions", "To complete this worksheet", "Not started yet."):
        assert english not in response.text


def test_english_learner_still_sees_english(browser):
    launch(browser, SPANISH_LEARNER, locale="es")  # another learner's Spanish launch changes nothing here
    response, claims = launch(browser, ENGLISH_LEARNER)
    assert claims[LTI + "launch_presentation"]["locale"] == "en"
    soup = soup_of(response)
    assert soup.html["lang"] == "en"
    assert text_of(soup, "#save-draft") == "Save draft"
    assert text_of(soup, "#submit") == "Submit"
    assert text_of(soup, "#add-row") == "Add partnership"
    assert text_of(soup, "#checklist-title") == "To complete this worksheet"
    assert "Guardar borrador" not in response.text and "Agregar alianza" not in response.text


def test_locale_follows_each_launch(browser):
    """The person's stored locale is the last launch's: Spanish, then English again, then Spanish."""
    for locale, button in (("es", "Guardar borrador"), (None, "Save draft"), ("es-MX", "Guardar borrador")):
        response, _ = launch(browser, SPANISH_LEARNER, locale=locale)
        assert text_of(soup_of(response), "#save-draft") == button


@pytest.mark.parametrize(("locale", "lang", "button"), [
    ("es", "es", "Enviar"),
    ("es-MX", "es", "Enviar"),
    ("es-419", "es", "Enviar"),
    ("es_AR", "es", "Enviar"),
    ("ES", "es", "Enviar"),
    ("fr-CA", "en", "Submit"),
    ("pt-BR", "en", "Submit"),
    ("en-GB", "en", "Submit"),
])
def test_launch_locale_picks_spanish_or_falls_back_to_english(browser, locale, lang, button):
    response, claims = launch(browser, SPANISH_LEARNER, locale=locale)
    assert claims[LTI + "launch_presentation"]["locale"] == locale
    soup = soup_of(response)
    assert soup.html["lang"] == lang
    assert text_of(soup, "#submit") == button


def test_roster_locale_we_do_not_ship_falls_back_to_english(browser):
    response, claims = launch(browser, "u-learner-2")  # Persian ("fa") in the practice course
    assert claims[LTI + "launch_presentation"]["locale"] == "fa"
    soup = soup_of(response)
    assert soup.html["lang"] == "en"
    assert text_of(soup, "#save-draft") == "Save draft"


def test_script_strings_are_spanish(browser):
    response, _ = launch(browser, SPANISH_LEARNER, locale="es-MX")
    strings = js_strings_of(soup_of(response))
    assert strings["Saving…"] == "Guardando…"
    assert strings["Submitting…"] == "Enviando…"
    assert strings["Partnership %s added."] == "Alianza %s agregada."
    assert strings["Saved at %s."] == "Guardado a las %s."
    assert strings["Keep my version"] == "Conservar mi versión"
    assert strings["Done:"] == "Hecho:" and strings["To do:"] == "Pendiente:"
    untranslated = [key for key, value in strings.items() if value == key]
    assert not untranslated, untranslated
    for key, value in strings.items():  # the script fills %s in: every placeholder must survive
        assert value.count("%s") == key.count("%s"), (key, value)


def test_script_strings_are_english_for_english_learner(browser):
    response, _ = launch(browser, ENGLISH_LEARNER)
    strings = js_strings_of(soup_of(response))
    assert strings and all(value == key for key, value in strings.items())


def test_print_view_is_spanish(browser):
    response, _ = launch(browser, SPANISH_LEARNER, locale="es")
    token = soup_of(response).select_one("#launch")["data-launch-token"]
    page = browser.http.get(f"{browser.base_url}/activity/print", params={"lt": token})
    assert page.status_code == 200, page.text[:1000]
    soup = soup_of(page)
    assert soup.html["lang"] == "es"
    assert "Preguntas de reflexión" in page.text
    assert text_of(soup, ".no-print a") == "Volver a la hoja de trabajo"


def test_spanish_catalog_is_complete_and_compiled():
    """Every message has a checked Spanish translation with the same placeholders, and the .mo matches the .po."""
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = TRANSLATIONS_DIR / "es" / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as fh:
        po = read_po(fh, locale="es")
    with open(TRANSLATIONS_DIR / "messages.pot", "rb") as fh:
        pot = read_po(fh)
    messages = [m for m in po if m.id]
    assert {m.id if isinstance(m.id, str) else m.id[0] for m in messages} == {
        m.id if isinstance(m.id, str) else m.id[0] for m in pot if m.id}
    assert not [m.id for m in messages if m.fuzzy]
    assert not [m.id for m in messages if not (all(m.string) if isinstance(m.string, tuple) else m.string)]
    problems = [(m.id, [str(e) for e in errors]) for m, errors in po.check()]
    assert not problems, problems
    with open(folder / "messages.mo", "rb") as fh:
        mo = read_mo(fh)

    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    compiled = {plain(m.id): plain(m.string) for m in mo if m.id}
    assert compiled == {plain(m.id): plain(m.string) for m in messages}, "run `make translations` to recompile"


# --- error pages, API messages and WTForms' own messages ---------------------------------------------

SPANISH_BROWSER = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}


def tokens_of(response) -> dict[str, str]:
    """The headers the page's script sends: its launch token and CSRF token."""
    node = soup_of(response).select_one("#launch")
    return {"X-Launch-Token": node["data-launch-token"], "X-CSRF-Token": node["data-csrf-token"]}


def error_page(response, status: int) -> BeautifulSoup:
    assert response.status_code == status, f"{response.status_code}: {response.text[:1500]}"
    soup = soup_of(response)
    assert soup.select_one("[role=alert] #error-title") is not None, response.text[:1500]
    return soup


def test_failed_launch_is_explained_in_the_browsers_language(browser):
    """No launch exists yet, so Accept-Language picks the language; the advice is whole Spanish sentences."""
    login = browser.start(SPANISH_LEARNER)
    response = browser.http.post(f"{browser.base_url}/lti/launch", data={"state": login.state}, headers=SPANISH_BROWSER)
    soup = error_page(response, 400)
    assert soup.html["lang"] == "es"
    assert text_of(soup, "#error-title") == "El lanzamiento no incluía ningún token de identidad"
    assert text_of(soup, ".error-advice") == (
        "Qué hacer: Esta página se debe abrir desde su LMS. Regrese al curso en su LMS y vuelva a abrir la actividad. "
        "Si su navegador bloquea las cookies de terceros, intente permitirlas para este sitio.")
    assert text_of(soup, ".error-detail").startswith("Qué ocurrió: ")
    assert text_of(soup, ".error-ref").startswith("Referencia: missing_id_token · solicitud ")
    for english in ("What to do", "What happened", "Reference:", "Go back to the course", "identity token"):
        assert english not in response.text


def test_failed_launch_stays_english_for_an_english_browser(browser):
    login = browser.start(SPANISH_LEARNER)
    response = browser.http.post(f"{browser.base_url}/lti/launch", data={"state": login.state},
                                 headers={"Accept-Language": "en-US,en;q=0.8"})
    soup = error_page(response, 400)
    assert soup.html["lang"] == "en"
    assert text_of(soup, "#error-title") == "The launch carried no identity token"
    assert text_of(soup, ".error-advice") == (
        "What to do: This page must be opened from your LMS. Go back to the course in your LMS and open the activity again. "
        "If your browser blocks third-party cookies, try allowing them for this site.")
    assert text_of(soup, ".error-ref").startswith("Reference: missing_id_token · request ")


def test_refused_login_is_spanish_for_a_spanish_browser(browser):
    response = browser.http.get(f"{browser.base_url}/lti/login", params={"iss": "https://x.example"}, headers=SPANISH_BROWSER)
    soup = error_page(response, 400)
    assert text_of(soup, "#error-title") == "La solicitud de inicio de sesión del LMS está incompleta"
    assert text_of(soup, ".error-advice") == (
        "Qué hacer: Regrese al curso en su LMS y vuelva a abrir la actividad. Un administrador del LMS debe revisar "
        "la URL de inicio de sesión y el ID de cliente de la herramienta en el LMS.")


def test_spanish_launch_advice_keeps_its_facts(browser, lms_key):
    """The translated advice still names the issuer, client id and deployment to activate."""
    fields = browser.authorize(browser.start(SPANISH_LEARNER)).fields
    fields["id_token"] = resign(fields["id_token"], lms_key, claims={LTI + "deployment_id": "deployment-es"})
    _, claims = unverified(fields["id_token"])
    response = browser.http.post(f"{browser.base_url}/lti/launch", data=fields, headers=SPANISH_BROWSER)
    soup = error_page(response, 403)
    assert text_of(soup, "#error-title") == "Esta implementación (deployment) de la herramienta aún no está activa"
    assert text_of(soup, ".error-advice") == (
        "Qué hacer: Un administrador del LMS debe activarla en la herramienta: `lti-tool platforms activate "
        f"--issuer {claims['iss']} --client-id {claims['aud']} --deployment-id deployment-es`.")


def test_error_page_without_a_launch_follows_the_browser(browser):
    response = browser.http.get(f"{browser.base_url}/activity", headers=SPANISH_BROWSER)
    soup = error_page(response, 401)
    assert soup.html["lang"] == "es"
    assert text_of(soup, "#error-title") == "No autorizado"
    assert text_of(soup, ".error-detail") == "Qué ocurrió: Esta página se debe abrir desde su curso en el LMS."
    assert text_of(soup, ".error-advice") == "Qué hacer: Vuelva a abrir la actividad desde su curso en el LMS."
    english = error_page(browser.http.get(f"{browser.base_url}/activity"), 401)
    assert english.html["lang"] == "en"
    assert text_of(english, "#error-title") == "Unauthorized"
    assert text_of(english, ".error-detail") == "What happened: This page must be opened from your course in the LMS."
    assert text_of(english, ".error-advice") == "What to do: Open the activity again from your course in the LMS."


def test_error_pages_after_a_spanish_launch_are_spanish(browser):
    """After a launch its locale wins, whatever the browser sends."""
    response, _ = launch(browser, SPANISH_LEARNER, locale="es")
    token = tokens_of(response)["X-Launch-Token"]
    page = browser.http.get(f"{browser.base_url}/activity", params={"lt": token, "page": "no-such-page"},
                            headers={"Accept-Language": "en"})
    soup = error_page(page, 404)
    assert soup.html["lang"] == "es"
    assert text_of(soup, "#error-title") == "No encontrado"
    assert text_of(soup, ".error-detail") == (
        "Qué ocurrió: No hay ninguna página del curso llamada “no-such-page”. "
        "Pida al diseñador del curso que revise la configuración de la actividad.")
    assert text_of(soup, ".error-advice") == "Qué hacer: Revise la dirección o vuelva a abrir la actividad desde su curso."
    assert text_of(soup, ".error-ref").startswith("Referencia: 404 · solicitud ")
    forbidden = error_page(browser.http.get(f"{browser.base_url}/instructor/", params={"lt": token}), 403)
    assert text_of(forbidden, "#error-title") == "Acceso prohibido"
    assert text_of(forbidden, ".error-detail") == "Qué ocurrió: Esta página es para los docentes del curso."


def test_api_messages_are_spanish_for_a_spanish_learner(browser):
    headers = tokens_of(launch(browser, SPANISH_LEARNER, locale="es")[0])
    response = browser.http.post(f"{browser.base_url}/api/worksheet", json=[1, 2], headers=headers)
    assert response.status_code == 400
    assert response.json()["message"] == "Se esperaba un objeto JSON."


TOO_LONG = {"rows": [{"partnership": "x" * 201, "type": "sometimes"}], "answers": {"talk-more": "a" * 3001},
            "base_version": None, "action": "save"}


def test_wtforms_messages_are_spanish_for_a_spanish_learner(browser):
    headers = tokens_of(launch(browser, SPANISH_LEARNER, locale="es")[0])
    response = browser.http.post(f"{browser.base_url}/api/worksheet", json=TOO_LONG, headers=headers)
    assert response.status_code == 422, response.text[:500]
    errors = response.json()["errors"]
    assert errors["rows-0-partnership"] == ["El campo no puede tener más de 200 caracteres."]
    assert errors["q_talk-more"] == ["El campo no puede tener más de 3000 caracteres."]
    assert errors["rows-0-type"] == ["Opción inválida."]


def test_wtforms_messages_stay_english_for_an_english_learner(browser):
    launch(browser, SPANISH_LEARNER, locale="es")  # a Spanish launch elsewhere changes nothing here
    headers = tokens_of(launch(browser, ENGLISH_LEARNER)[0])
    response = browser.http.post(f"{browser.base_url}/api/worksheet", json=TOO_LONG, headers=headers)
    assert response.status_code == 422, response.text[:500]
    errors = response.json()["errors"]
    assert errors["rows-0-partnership"] == ["Field cannot be longer than 200 characters."]
    assert errors["rows-0-type"] == ["Not a valid choice."]
