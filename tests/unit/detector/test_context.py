"""Context rules: negation, counter-speech, benign activities, nuisance, unfounded complaints."""

import pytest

from .conftest import fired

CONTEXT = [
    ("Er is geen sprake van discriminatie, het gaat om de schutting.", "ontkenning"),
    ("Melder zegt dat het niets met zijn afkomst te maken heeft.", "ontkenning"),
    ("buurman benadrukt dat het niet racistisch bedoeld was", "ontkenning"),
    ("poster 'geen plek voor racisme' in het raam", "tegenspraak"),
    ("bewoner neemt het op voor de nieuwe buren", "tegenspraak"),
    ("iftar in het buurthuis, zaal gereserveerd", "diversiteitsactiviteit"),
    ("Keti Koti viering op het plein", "diversiteitsactiviteit"),
    ("muziek tot laat op het balkon", "gewone_overlast"),
    ("bij gesprek bleek het om vuilniszakken te gaan, opgelost", "ongegrond"),
    ("'vuile turk' riep hij", "citaat"),
]


@pytest.mark.parametrize(("text", "recognizer"), CONTEXT)
def test_context_recognizer_fires(rules_detector, text, recognizer):
    assert recognizer in fired(rules_detector, text)


@pytest.mark.parametrize("text", [
    "vuile turk, ga terug naar je eigen land riep hij",
    "hakenkruis op de deur van fam. Cohen",
])
def test_no_context_on_plain_incidents(rules_detector, text):
    assert not fired(rules_detector, text) & {"ontkenning", "tegenspraak", "ongegrond"}


HARD_NEGATIVES = [
    # neutral mention
    "De Turkse buurvrouw klaagt over geluid van de bovenburen.",
    "mevr. (rolstoel) vraagt om aanpassing van de drempel bij de achterdeur",
    # minority resident causing ordinary nuisance
    "Poolse bewoners nr. 12 laat in de tuin met muziek, buren klagen. Brief gestuurd.",
    # insults tied to no ground
    "ruzie om de parkeerplek, 'klootzak' en 'idioot' over en weer, beiden gewaarschuwd",
    # negation
    "Geen sprake van discriminatie: melder geeft aan dat het over de schutting gaat.",
    # counter-speech
    "Bewoonster heeft poster 'geen plek voor racisme' opgehangen, buurman vindt hem lelijk.",
    # diversity activity
    "Suikerfeest in het buurthuis zaterdag, springkussen voor de kinderen, akkoord gegeven.",
    # unfounded
    ("mevr. denkt dat ze gepest wordt om haar afkomst; bij gesprek bleek het om vuilniszakken "
     "te gaan, buurman excuses, opgelost"),
]


@pytest.mark.parametrize("text", HARD_NEGATIVES)
def test_hard_negatives_are_not_flagged_by_rules(rules_detector, text):
    det = rules_detector.detect("n", text)
    assert not det.flag, det.to_dict()


HARD_POSITIVES = [
    "vuile makak, rot op naar je eigen land, riep de bovenbuurman weer",
    "Hakenkruis op de voordeur van de joodse familie gekalkt, politie ingelicht.",
    "Sinds de familie met hoofddoeken er woont worden elke week de banden lekgestoken.",
    "Buren willen met een handtekeningenactie het gezin uit de straat krijgen: 'jullie horen hier niet'.",
    "dochtertje (7) op het schoolplein 'aapje' genoemd en met zand bekogeld",
    "buurman dreigt het huis van het homostel in de fik te steken",
]


@pytest.mark.parametrize("text", HARD_POSITIVES)
def test_incidents_are_flagged_by_rules(rules_detector, text):
    det = rules_detector.detect("p", text)
    assert det.flag, det.to_dict()


def test_stated_counter_speech_damps_the_blended_score(detector):
    from services.detector.detection import rules

    quoted = "buurman riep 'vuile turk' tegen dhr. Yilmaz"
    countered = quoted + ", de buren kwamen meteen op voor dhr. en keurden het af"
    (a, b) = detector.analyse([quoted, countered])
    assert "counter" in b.effects() and not (a.effects() & rules.STATED_NOT_INCIDENT)
    p = {"flag": 0.9}
    assert detector._score(b, p) < detector._score(a, p)


def test_denials_in_other_words(detector):
    for text in ("Melder zegt: 'het ligt echt niet aan dat ze Pools zijn', wel aan het volume.",
                 "Mevr. zegt dat er geen sprake is van pesten om haar kleur."):
        (a,) = detector.analyse([text])
        assert "negate" in a.effects(), text
