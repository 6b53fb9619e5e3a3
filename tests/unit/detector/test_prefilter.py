from services.detector.detection.prefilter import candidate_keys, literal_prefixes, token_starts


def test_whole_words_are_marked():
    assert literal_prefixes(r"\bgeen sprake\b") == {"geen sprake"}
    assert literal_prefixes(r"\b(?:hoort|horen) (?:\w+ ){0,3}niet\b") == {"hoort ", "horen "}
    assert literal_prefixes(r"\b(?:op|in) (?:de|het) (?:deur|raam)") == {
        "op de ", "op het ", "in de ", "in het "}


def test_prefix_is_cut_at_non_literals():
    assert literal_prefixes(r"\bbanden?\b") == {"bande"}
    assert literal_prefixes(r"\bbanden?\b", optional=True) == {"bande", "banden"}
    assert literal_prefixes(r"\( ?(?:[7-9]\d)") == {"("}


def test_unknown_start_runs_always():
    assert literal_prefixes(r"\b\w+s out\b") is None
    assert literal_prefixes(r"(?:a|\w+)x") is None


def test_token_starts_include_parts():
    assert token_starts("kut-turk") == [(0, "kut-turk"), (4, "turk")]


def test_candidate_keys_cover_one_and_two_words():
    keys = candidate_keys("op", "de")
    assert {"o", "op", "op ", "op d", "op de", "op de "} <= set(keys)
