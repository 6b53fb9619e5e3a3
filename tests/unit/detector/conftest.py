"""One detector for the whole test session: loading spaCy and the YAML takes a few seconds."""

from __future__ import annotations

import pytest

from services.detector.detection import Detector, load_detector


@pytest.fixture(scope="session")
def detector() -> Detector:
    return load_detector()


@pytest.fixture(scope="session")
def rules_detector() -> Detector:
    """Recognizers and rules only, no classifier: tests the transparent part on its own."""
    from services.detector.detection.detector import Detector as D
    from services.detector.detection.paths import RECOGNIZER_DIR
    from services.detector.detection.recognizers import load_recognizers

    return D(load_recognizers(RECOGNIZER_DIR), None)


def fired(detector: Detector, text: str) -> set[str]:
    """Names of recognizers with an active (not negated) hit."""
    (a,) = detector.analyse([text])
    return {h.recognizer.name for h in a.active}


def fired_patterns(detector: Detector, text: str) -> set[str]:
    (a,) = detector.analyse([text])
    return {f"{h.recognizer.name}/{h.pattern}" for h in a.active}
