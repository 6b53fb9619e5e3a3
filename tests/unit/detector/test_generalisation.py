"""Notes written for this test in other words than the corpus: the detector must carry over.

Each recognizer family is exercised with wording, spelling and structure that the training
notes do not use (short notes, other slurs, censoring, other countries, other verbs).
"""

import pytest

from services.detector.detection.explain import is_reason

POSITIVE = [
    "Mw. Osei (nr 4) meldt dat buurjongens haar zoon steeds 'zwarte piet' noemen en hem duwen.",
    "Op de garagedeur van dhr. Cohen is een davidster met een streep erdoor getekend.",
    "Bovenbuurman schreeuwt elke avond door het trapgat dat 'die moslims' moeten oprotten.",
    "fam. Kowalczyk: briefje op ruit 'polen = tuig, wegwezen'. Auto bekrast.",
    "Buurvrouw noemt dhr. de Jong (rolstoel) 'die kreupele' en zet expres vuilniszakken op zijn "
    "hellingbaan.",
    "mevr. Ramdin huilend aan de balie: buurman riep 'k*tneger ik steek je huis in brand'.",
    "Sinds de familie uit Eritrea hier woont zijn hun fietsbanden al 5x doorgesneden, bij "
    "niemand anders.",
    "Anonieme flyer in alle brievenbussen: 'Geen azc-volk in onze wijk'.",
    "Trans buurvrouw Robin wordt door nr 12 steeds uitgelachen, vandaag hondenpoep voor haar deur.",
    "Dhr. Yilmaz: buurman zei 'jullie turken vreten onze uitkeringen op, ga terug'.",
    "Op de muur naast de deur van de joodse buren zijn SS-tekens gespoten.",
    "buurjongens roepen h0m0 en fl1kker naar het stel op nr 3",
]

NEGATIVE = [
    "Dhr. Yilmaz meldt lekkage in de badkamer, monteur komt dinsdag.",
    "Buurvrouw en buurman maken ruzie over de heg, 'lul' en 'trut' over en weer.",
    "Fam. Nowak organiseert zaterdag een buurtbarbecue op het plein.",
    "mevr. (80) valt bijna over losliggende stoeptegel, reparatie aangevraagd.",
    "Melder dacht dat haar auto bekrast was omdat ze moslim is; bleek een winkelwagen. Opgelost.",
    "Marokkaanse jongeren hangen 's avonds in de portiek, rommel en lawaai. Jongerenwerk gebeld.",
    "Bewoners hebben een poster 'iedereen welkom, geen plek voor haat' in de hal gehangen.",
    "Er is geen sprake van discriminatie; de buren hebben onenigheid over de parkeerplaats.",
    "dhr. de Wit vraagt om een extra sleutel van de berging.",
    "Hondenpoep in de gezamenlijke tuin, derde keer, brief aan alle bewoners.",
]


@pytest.mark.parametrize("text", POSITIVE)
def test_unseen_incidents_are_flagged_with_reasons(detector, text):
    det = detector.detect("p", text)
    assert det.flag, det.to_dict()
    assert any(is_reason(e) for e in det.evidence)


@pytest.mark.parametrize("text", NEGATIVE)
def test_unseen_ordinary_notes_are_not_flagged(detector, text):
    assert not detector.detect("n", text).flag
