"""Each recognizer with positive and negative cases, written in words the corpus does not use."""

import pytest

from .conftest import fired, fired_patterns

POSITIVE = [
    # slurs per ground, with variants, compounds, leetspeak and censoring
    ("buurman riep 'kankermarokkaan' naar dhr.", "scheldwoord_herkomst"),
    ("ze noemde hem een vieze turk", "scheldwoord_herkomst"),
    ("'kut-turk' op de auto gekrast", "scheldwoord_herkomst"),
    ("turkentuig werd er geroepen", "scheldwoord_herkomst"),
    ("riep n1kk3r door de gang", "scheldwoord_huidskleur"),
    ("jongens riepen 'n*gger' naar het meisje", "scheldwoord_huidskleur"),
    ("negerkinderen horen hier niet riep de buurman", "scheldwoord_huidskleur"),
    ("ze maakten apengeluiden bij de lift", "scheldwoord_huidskleur"),
    ("stomme h0m0 stond op het briefje", "scheldwoord_seksuele_gerichtheid"),
    ("de jongens schreeuwden flikkers naar het stel", "scheldwoord_seksuele_gerichtheid"),
    ("buurman noemt haar een travo", "scheldwoord_genderidentiteit"),
    ("hij noemt haar expres meneer", "scheldwoord_genderidentiteit"),
    ("jongeren roepen 'mongool' naar de zoon met downsyndroom", "scheldwoord_handicap"),
    ("'ouwe heks' door de brievenbus geroepen", "scheldwoord_leeftijd"),
    ("'polakken' riep de bovenbuurman", "scheldwoord_nationaliteit"),
    ("vuile moslim stond op de deur", "scheldwoord_godsdienst"),
    ("gelukszoekers moeten weg, stond op een briefje", "scheldwoord_overig"),
    ("hij is een landverrader volgens de buurman", "scheldwoord_politiek"),
    # identity (neutral)
    ("de Turkse buurvrouw klaagt over geluid", "identiteit_herkomst"),
    ("mevr. (rolstoel) vraagt om een drempelhulp", "identiteit_handicap"),
    ("het homostel op nr 4", "identiteit_seksuele_gerichtheid"),
    ("mevr. Smit (84) woont alleen", "identiteit_leeftijd"),
    ("dhr. draagt een keppeltje", "identiteit_godsdienst"),
    ("Poolse bewoners nr 12", "identiteit_nationaliteit"),
    ("de zwarte buurman", "identiteit_huidskleur"),
    ("alleenstaande moeder met drie kids", "identiteit_burgerlijke_staat"),
    # acts
    ("hij dreigde het huis in de fik te steken", "bedreiging"),
    ("we weten waar je woont", "bedreiging"),
    ("ik maak je af riep hij", "bedreiging"),
    ("buurman sloeg hem in zijn gezicht", "geweld"),
    ("ze bespuugde mevr. bij de lift", "geweld"),
    ("stenen naar haar gegooid", "geweld"),
    ("alle vier de banden lek gestoken", "vernieling"),
    ("ruit ingegooid vannacht", "vernieling"),
    ("hakenkruis op de voordeur gekalkt", "bekladding"),
    ("SS-runen op de schuur", "bekladding"),
    ("met stift op het raam geschreven", "bekladding"),
    ("varkenskop voor de deur gelegd", "intimiderend_object"),
    ("hij wordt steeds uitgescholden", "schelden"),
    ("de kinderen worden gepest en getreiterd", "pesterij"),
    ("ze zet expres haar fiets voor de hellingbaan", "pesterij"),
    # exclusion
    ("jullie horen hier niet", "uitsluiting"),
    ("ga terug naar je eigen land", "uitsluiting"),
    ("rot op naar je land", "uitsluiting"),
    ("buren zijn een petitie gestart om het gezin uit de straat te krijgen", "uitsluiting"),
    ("buitenlanders eruit", "uitsluiting"),
    # attribution, repetition, target
    ("volgens mevr. gebeurt dit vanwege haar afkomst", "grond_benoemd_herkomst"),
    ("racistische opmerkingen bij de containers", "discriminatie_benoemd"),
    ("het gebeurt wekelijks", "herhaling"),
    ("al maanden hetzelfde", "herhaling"),
    ("dochtertje (6) werd nageroepen", "kind_doelwit"),
]


@pytest.mark.parametrize(("text", "recognizer"), POSITIVE)
def test_recognizer_fires(rules_detector, text, recognizer):
    assert recognizer in fired(rules_detector, text)


NEGATIVE = [
    # false friends and neutral words
    ("bew. negeert de brieven van de corporatie", "scheldwoord_huidskleur"),
    ("kakkerlakken in de keuken, ongediertebestrijding ingeschakeld", "scheldwoord_herkomst"),
    ("flikker toch op met je bus, riep de buurman", "scheldwoord_seksuele_gerichtheid"),
    ("de Turkse buurvrouw klaagt over geluid", "scheldwoord_herkomst"),
    ("het homostel op nr 4 vraagt om een nieuwe bel", "scheldwoord_seksuele_gerichtheid"),
    ("dhr. de Wit klaagt over de lift", "identiteit_huidskleur"),
    ("bomen snoeien in de binnentuin", "scheldwoord_huidskleur"),
    ("de trap is vies, schoonmaak ingepland", "geweld"),
    ("brief gestuurd dat de fietsen weg moeten", "uitsluiting"),
    ("ik ga terug voor controle", "uitsluiting"),
    ("de kapotte lamp in de gang is vervangen", "vernieling"),
    ("harde stemmen op het balkon", "identiteit_politiek"),
    ("ruzie over de heg: 'klootzak' en 'idioot' over en weer", "scheldwoord_handicap"),
    ("mevr. doet de deur niet open", "uitsluiting"),
]


@pytest.mark.parametrize(("text", "recognizer"), NEGATIVE)
def test_recognizer_does_not_fire(rules_detector, text, recognizer):
    assert recognizer not in fired(rules_detector, text)


def test_negator_cancels_a_hit(rules_detector):
    (a,) = rules_detector.analyse(["Er is geen bedreiging geuit."])
    threat = [h for h in a.hits if h.recognizer.name == "bedreiging"]
    assert threat and threat[0].negated_by == "geen"
    assert "bedreiging" not in fired(rules_detector, "Er is geen bedreiging geuit.")


def test_negation_scope_ends_at_clause_break(rules_detector):
    assert "bedreiging" in fired(rules_detector, "niet gezien, maar hij dreigde met een mes")


def test_context_word_raises_score(rules_detector):
    (a,) = rules_detector.analyse(["hij riep flikkers naar het stel"])
    slur = next(h for h in a.hits if h.recognizer.name == "scheldwoord_seksuele_gerichtheid")
    assert slur.context_word == "riep"
    assert slur.score > slur.recognizer.score


def test_evidence_names_recognizer_and_pattern(rules_detector):
    assert "scheldwoord_herkomst/samenstelling met scheldwoord" in fired_patterns(
        rules_detector, "kankermarokkaan")


MORE_POSITIVE = [
    ("'JOOD' op de deur gekrast", "scheldwoord_godsdienst"),
    ("ze riepen 'vuile koelie'", "scheldwoord_herkomst"),
    ("K4NKERM0KR0 op de muur", "scheldwoord_herkomst"),
    ("'vuile n!kker' riep hij", "scheldwoord_huidskleur"),
    ("'POLEN = DIEVEN' op een bord", "stereotype"),
    ("'al die moslims moeten oprotten'", "groepsbelediging"),
    ("de familie uit Eritrea", "identiteit_herkomst"),
    ("mevr. Smit (82, blind)", "identiteit_leeftijd"),
    ("hun fietsbanden zijn doorgesneden, bij niemand anders", "selectief_doelwit"),
    ("gemeld bij het ADV", "melding_discriminatie"),
    ("'gas is te goed voor je'", "bedreiging"),
    ("hond op de kinderen afgestuurd", "geweld"),
    ("'dit is voor kinderen van hier'", "uitsluiting_zwak"),
]


@pytest.mark.parametrize(("text", "recognizer"), MORE_POSITIVE)
def test_more_recognizers_fire(rules_detector, text, recognizer):
    assert recognizer in fired(rules_detector, text)


MORE_NEGATIVE = [
    ("dhr. Polak vraagt een sleutel", "scheldwoord_nationaliteit"),  # a surname, not a slur
    ("huisnummer 88 krijgt een nieuwe bel", "bekladding"),
    ("poster 'stop racisme' in de hal", "bekladding"),
    ("'haat hoort hier niet' op een bord", "uitsluiting"),
    ("twee moeders ruziën om de schommel", "scheldwoord_seksuele_gerichtheid"),
    ("rooster opgehangen in de droogkamer", "bedreiging"),
    ("koelkast weggehaald van de galerij", "vernieling"),
    ("Geregeld.", "herhaling"),
]


@pytest.mark.parametrize(("text", "recognizer"), MORE_NEGATIVE)
def test_more_recognizers_do_not_fire(rules_detector, text, recognizer):
    assert recognizer not in fired(rules_detector, text)


def test_prefilter_is_exact(rules_detector):
    """Trying phrase patterns only at candidate positions finds exactly what a scan finds."""
    rs = rules_detector.recognizers
    texts = [t for t, _ in POSITIVE + MORE_POSITIVE + NEGATIVE + MORE_NEGATIVE]
    analyses = rules_detector.analyse(texts)
    fast = [sorted((h.recognizer.name, h.start, h.end) for h in a.hits) for a in analyses]
    slow = [sorted((h.recognizer.name, h.start, h.end)
                   for h in rs.analyse(a.words, a.lemmas, a.starts, a.text, norms=a.norms,
                                       skip=a.names, scan=True))
            for a in analyses]
    assert fast == slow
