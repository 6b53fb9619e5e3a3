import pytest

from buurtsignaal.config import REPO_ROOT, Settings
from buurtsignaal.domain.highlight import Segment, segments
from buurtsignaal.domain.regions import UNROUTED, RegionMap


def test_segments_mark_evidence_and_keep_all_text() -> None:
    text = "hij riep vuile makaak en dreigde"
    ev = [{"start": 9, "end": 21, "recognizer": "slur", "explanation": "Scheldwoord"},
          {"start": 15, "end": 21, "recognizer": "slur2", "explanation": "overlap"}]
    segs = segments(text, ev)
    assert "".join(s.text for s in segs) == text
    assert segs[1] == Segment("vuile makaak", "Scheldwoord", "slur")


def test_segments_ignore_out_of_range_spans() -> None:
    assert segments("abc", [{"start": 2, "end": 9, "recognizer": "r", "explanation": "e"}]) == [
        Segment("abc")]


def test_region_map_from_config() -> None:
    regions = RegionMap.load(REPO_ROOT / "config" / "regions.yaml")
    assert regions.region_of("GM0344") == "midden-nederland"
    assert regions.region_of("GM0106") == "drenthe"
    assert regions.region_of("GM9999") == UNROUTED


def test_region_map_refuses_municipality_in_two_regions() -> None:
    with pytest.raises(ValueError, match="GM0001 is in two regions"):
        RegionMap.from_dict({"regions": {"a": {"municipalities": ["GM0001"]},
                                         "b": {"municipalities": ["GM0001"]}}})


def test_production_needs_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BUURTSIGNAAL_KEY_SECRET", raising=False)
    monkeypatch.delenv("BUURTSIGNAAL_SESSION_SECRET", raising=False)
    with pytest.raises(ValueError, match="BUURTSIGNAAL_KEY_SECRET"):
        Settings(demo_mode=False)
    from buurtsignaal.privacy.crypto import Keyring

    ok = Settings(demo_mode=False, key_secret="k" * 32, session_secret="s" * 32,
                  encryption_keys=Keyring.generate("k1"))
    assert ok.key_secret == "k" * 32
    assert Settings(demo_mode=True).key_secret
