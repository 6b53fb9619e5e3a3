"""Detector 1.2.0 rules: reported-speech scope, remarks said to a resident, untargeted damage,
separable vandalism verbs, written-only slurs and small lexicon fixes. Each rule: positive and
negative cases, in wording that is not in the corpus."""

import pytest

from services.detector.detection import rules

from .conftest import fired, fired_patterns


def analyse(det, text):
    (a,) = det.analyse([text])
    return a


# ------------------------------------------------------------ objection (counter-speech)
@pytest.mark.parametrize("text", [
    "Mevr. heeft de jongens gecorrigeerd toen ze dat woord gebruikten.",
    "Buurman liet weten dat zulke taal hier niet past.",
    "Hij vond dat het zo niet kon en zei het ook.",
    "Dhr. is het oneens met zijn neef over diens uitspraken.",
    "Na afloop nam hij zijn woorden terug.",
    "Bewoners spraken hem aan op zijn opmerkingen in de app.",
    "Ze pikt het niet dat haar broer zo praat.",
])
def test_objection_fires(rules_detector, text):
    assert "tegenspraak_bezwaar" in fired(rules_detector, text)


@pytest.mark.parametrize("text", [
    "Buurman riep 'vuile makak' naar mevr. en liep weg.",
    "De lift is weer kapot, monteur komt dinsdag.",
    "Mevr. zegt dat het niet de eerste keer is.",
])
def test_objection_silent_on_incidents(rules_detector, text):
    assert "tegenspraak_bezwaar" not in fired(rules_detector, text)


# ------------------------------------------------------------ said to a resident
@pytest.mark.parametrize("text", [
    "De man noemde haar 'bruine aap' bij de brievenbus.",
    "toen de buurman hem 'slaaf' noemde",
    "Jongens hebben dhr. op de galerij uitgescholden.",
    "Er werd tegen de kinderen 'terug naar je land' geroepen.",
])
def test_directed_fires(rules_detector, text):
    assert "gericht_aan_bewoner" in fired(rules_detector, text)


@pytest.mark.parametrize("text", [
    "Iemand zei in de vergadering dat 'die buitenlanders' alles krijgen.",
    "In de app stond een filmpje met dat woord erin.",
])
def test_directed_silent_on_group_remarks(rules_detector, text):
    assert "gericht_aan_bewoner" not in fired(rules_detector, text)


# ------------------------------------------------------------ scope rule
def test_quoted_slur_objected_to_is_reported_speech(rules_detector):
    text = ("Op de verjaardag riep een gast 'al die kankerturken'. Twee buren zeiden meteen "
            "dat zoiets niet kan; hij nam zijn woorden terug. Geen bewoner bedoeld.")
    a = analyse(rules_detector, text)
    assert any(h.recognizer.kind == "slur" for h in rules.reported_hits(a))
    assert not rules_detector.detect("x", text).flag


def test_quoted_slur_said_to_resident_stays_an_incident(rules_detector):
    text = ("Buurvrouw sprak de man erop aan toen hij mevr. Adjei 'vieze aap' noemde; "
            "hij lachte en zei dat zoiets toch moet kunnen.")
    a = analyse(rules_detector, text)
    assert not rules.reported_hits(a)
    det = rules_detector.detect("x", text)
    assert det.flag and "huidskleur" in det.grounds


def test_quoted_slur_without_objection_is_not_reported(rules_detector):
    a = analyse(rules_detector, "Op de deur stond 'vuile jood' geschreven.")
    assert not rules.reported_hits(a)


# ------------------------------------------------------------ untargeted damage
@pytest.mark.parametrize("text", [
    "Bij de Turkse buurman en nog vier andere bewoners zijn de banden lekgestoken.",
    "Ruit van mevr. (rolstoel) gesneuveld door een bal van de kinderen.",
    "Voordeur van de Poolse huurder opengebroken bij een inbraak.",
    "In de hele straat zijn de spiegels van de auto's afgebroken, ook bij fam. Demir (Turks).",
])
def test_untargeted_damage_is_not_flagged(rules_detector, text):
    assert "niet_gericht" in fired(rules_detector, text)
    assert not rules_detector.detect("x", text).flag


def test_untargeted_does_not_cancel_selective_targeting(rules_detector):
    text = ("Alleen bij de Somalische familie zijn de banden lekgestoken, bij niemand anders; "
            "eerder ook een inbraak in hun schuur.")
    assert rules_detector.detect("x", text).flag


def test_untargeted_does_not_cancel_a_slur(rules_detector):
    text = "Na de inbraak stond 'kankermarokkanen' op de muur gekalkt bij fam. Idrissi."
    assert rules_detector.detect("x", text).flag


# ------------------------------------------------------------ separable vandalism verbs
@pytest.mark.parametrize("text", [
    "de spiegels van zijn auto zijn afgebroken",
    "ze braken vannacht beide zijspiegels af",
    "iemand trapte de voordeur in",
    "ze staken zijn banden lek",
    "brievenbus volgestopt met hondenpoep",
    "de ventielen zijn eruit gedraaid",
    "ruiten aan diggelen",
    "de kabel van de bel is doorgeknipt",
    "de hellingbaan werd losgewrikt",
])
def test_vandalism_vocabulary(rules_detector, text):
    assert "vernieling" in fired(rules_detector, text)


@pytest.mark.parametrize("text", [
    "Het gesprek is afgebroken, we proberen het volgende week opnieuw.",
    "De Turkse buurman heeft een kapotte deurdranger.",
    "Hij is de weg ingeslagen naar de supermarkt.",
    "Mevr. leverde de stukken in voor de aanvraag.",
])
def test_vandalism_vocabulary_negatives(rules_detector, text):
    assert "vernieling" not in fired(rules_detector, text)


# ------------------------------------------------------------ violence idioms
@pytest.mark.parametrize("text", [
    "ze verweet hem racistische praat uit te slaan",
    "dat slaat nergens op volgens de buurman",
])
def test_slaan_idioms_are_not_violence(rules_detector, text):
    assert "geweld" not in fired(rules_detector, text)


def test_throwing_at_a_window_is_not_violence(rules_detector):
    names = fired_patterns(rules_detector, "Jongens gooiden eieren tegen haar raam.")
    assert "geweld/iets naar iemand gooien" not in names


def test_throwing_at_a_person_is_violence(rules_detector):
    assert "geweld" in fired(rules_detector, "Jongens gooiden eieren naar haar toen ze thuiskwam.")


# ------------------------------------------------------------ written-only slurs
def test_graffiti_slur_is_bekladding_not_verbaal(rules_detector):
    a = analyse(rules_detector, "Op de garagedeur van fam. Bakr 'vuile moslims' gespoten.")
    forms = rules.rule_forms(a)
    assert "bekladding" in forms and "verbaal" not in forms


def test_spoken_slur_next_to_graffiti_stays_verbaal(rules_detector):
    a = analyse(rules_detector, "Hakenkruis op de deur gekalkt, en buurman riep 'vuile jood' naar dhr.")
    assert {"bekladding", "verbaal"} <= set(rules.rule_forms(a))


# ------------------------------------------------------------ lexicon fixes
def test_gemeente_is_municipality_not_religion(rules_detector):
    assert "identiteit_godsdienst" not in fired(rules_detector, "Melding doorgestuurd naar de gemeente.")
    assert "identiteit_godsdienst" in fired(rules_detector, "Hij is lid van de kerkgemeente.")


def test_delen_is_not_a_slur(rules_detector):
    assert "scheldwoord_geslacht" not in fired(rules_detector, "Bewoners wordt gevraagd beelden te delen.")
    assert "scheldwoord_geslacht" in fired(rules_detector, "Hij riep 'vieze dellen' naar de vrouwen.")


def test_racistisch_does_not_add_herkomst_next_to_a_colour_slur(rules_detector):
    a = analyse(rules_detector, "Racistische opmerking: buurman noemde haar 'roetmop'.")
    grounds = rules.rule_grounds(a)
    assert "huidskleur" in grounds and "herkomst" not in grounds


def test_racistisch_alone_still_means_herkomst(rules_detector):
    a = analyse(rules_detector, "Racistische opmerkingen van de buurman tegen mevr. bij de lift.")
    assert "herkomst" in rules.rule_grounds(a)


@pytest.mark.parametrize("text", [
    "Volgens beiden speelt afkomst geen rol, het gaat om de schuur.",
    "Dhr. voelt zich er niet door gekwetst, het is een bijnaam onder vrienden.",
    "Hij is zelf niet genoemd in het bericht.",
])
def test_nobody_meant_is_negation(rules_detector, text):
    assert "ontkenning" in fired(rules_detector, text)
