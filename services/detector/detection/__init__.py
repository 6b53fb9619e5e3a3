"""Dutch detector for discriminatory harassment in housing-corporation notes.

    from services.detector.detection import load_detector
    detector = load_detector()              # once, at start
    for det in detector.detect_many([(note_id, text), ...]):
        ...                                 # buurtsignaal.domain.signals.Detection, input order
"""

from .detector import Detector, build_nlp, load_detector
from .explain import summary
from .paths import default_model_dir

__all__ = ["Detector", "build_nlp", "default_model_dir", "load_detector", "summary"]
