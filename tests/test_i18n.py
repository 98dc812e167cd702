"""The tool speaks the launch's language: Spanish for es / es-MX launches, English otherwise (over real HTTP)."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup

from lti_tool.paths import TRANSLATIONS_DIR
from tests.lms import Login, parse_form, submit, unverified

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
