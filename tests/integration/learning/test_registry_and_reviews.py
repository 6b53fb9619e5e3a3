"""Against real PostgreSQL: reviewed cases export as training examples (pseudonymised text,
corrected labels, model version), the activation history is append-only, activation and
rollback rules, and the decisions-per-model gauge."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest
from prometheus_client import generate_latest
from psycopg.rows import dict_row

from buurtsignaal.adapters import cases_repo
from buurtsignaal.adapters.users import User
from buurtsignaal.config import REPO_ROOT, Settings
from services.detector.learning import registry
from services.detector.learning.reviews import load_reviewed, sample_decision_gauges
from services.notifier import review
from tests.integration.review.conftest import seed_case

REVIEWER = User(1, "adv.a", "adv_medewerker", "midden-nederland", ())


def decide(url: str, case_id: int, to: str, *, correct: tuple[str, ...] | None = None) -> None:
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.transaction():
        case = cases_repo.get_case(conn, case_id)
        review.change_status(conn, REVIEWER, case, "in_behandeling", "", case["version"])
        if correct:
            case = cases_repo.get_case(conn, case_id)
            review.correct(conn, REVIEWER, case, list(correct), ["bedreiging"], 3, case["version"])
        case = cases_repo.get_case(conn, case_id)
        review.change_status(conn, REVIEWER, case, to, "beoordeeld", case["version"])


def test_reviewed_cases_become_examples_with_corrected_labels(app_settings: Settings) -> None:
    url = app_settings.database_url
    confirmed = seed_case(url, text="Buurman riep [PERSOON-1] na: vuile makaak.", subject="a")
    dismissed = seed_case(url, text="Ruit ingegooid door een bal, [PERSOON-1] betaalt.", subject="b")
    seed_case(url, text="Nog open.", subject="c")
    decide(url, confirmed, "bevestigd", correct=("herkomst", "huidskleur"))
    decide(url, dismissed, "afgewezen")
    with psycopg.connect(url, row_factory=dict_row) as conn:
        examples = load_reviewed(conn)
    assert [(e.text, e.flag) for e in examples] == [
        ("Buurman riep [PERSOON-1] na: vuile makaak.", True),
        ("Ruit ingegooid door een bal, [PERSOON-1] betaalt.", False)]
    record = examples[0].corpus_record()
    assert record["grounds"] == ["herkomst", "huidskleur"] and record["forms"] == ["bedreiging"]
    assert record["severity"] == 3 and examples[0].model_version == "test-model-1"
    assert examples[1].corpus_record()["grounds"] == []

    with psycopg.connect(url, row_factory=dict_row) as conn:
        sample_decision_gauges(conn)
    text = generate_latest().decode()
    assert ('buurtsignaal_review_decisions_by_model{decision="afgewezen",ground="herkomst",'
            'model_version="test-model-1"} 1.0' in text or
            'buurtsignaal_review_decisions_by_model{model_version="test-model-1",ground="herkomst",'
            'decision="afgewezen"} 1.0' in text), [x for x in text.splitlines() if "decisions_by" in x]


@pytest.fixture
def reg(tmp_path: Path, app_settings: Settings) -> Path:
    with psycopg.connect(app_settings.database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE model_activations")
    shutil.copytree(REPO_ROOT / "models" / "detector" / "current", tmp_path / "current")
    for name, evaluated in (("cand-1", True), ("cand-2", False)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"model_version": name}))
        if evaluated:
            (tmp_path / name / "evaluation.json").write_text("{}")
    (tmp_path / "copied").mkdir()  # a directory whose manifest names another version
    (tmp_path / "copied" / "manifest.json").write_text(json.dumps({"model_version": "cand-1"}))
    return tmp_path


def test_activation_and_rollback_rules(app_settings: Settings, reg: Path) -> None:
    shipped = registry.default_version(reg)
    assert [m.version for m in registry.list_models(reg)] == [shipped, "cand-1", "cand-2"]
    with psycopg.connect(app_settings.database_url, row_factory=dict_row) as conn:
        for version, reason, message in (("cand-2", "x", "nog niet geëvalueerd"),
                                         ("cand-1", " ", "Geef een reden op"),
                                         ("../current", "x", "Onbekende modelversie"),
                                         (shipped, "x", "al actief")):
            with pytest.raises(registry.RegistryError, match=message):
                registry.activate(conn, reg, "beheerder", version, reason)
        with pytest.raises(registry.RegistryError, match="geen activering"):
            registry.rollback(conn, reg, "beheerder", "x")
        assert registry.activate(conn, reg, "beheerder", "cand-1", "beter") == shipped
        assert registry.resolve(conn, reg).path == reg / "cand-1"  # type: ignore[union-attr]
        assert registry.rollback(conn, reg, "beheerder", "terug") == ("cand-1", shipped)
        assert registry.resolve(conn, reg).version == shipped  # type: ignore[union-attr]
        conn.commit()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("UPDATE model_activations SET actor = 'iemand'")
        conn.rollback()
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            conn.execute("DELETE FROM model_activations")
