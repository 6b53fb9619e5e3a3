"""The learning loop end to end: reviewers dismiss a class of false positives in the review UI
(ordinary damage or theft in notes that mention a resident's origin neutrally), `buurtsignaal
train --include-reviews` builds a candidate, `evaluate --candidate` compares it, and on a
held-out part of that class, never sent or reviewed, the candidate flags fewer notes. An admin
activates it in the UI, the running detector scores with it, the admin rolls it back, and the
audit log and the activation history show both."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import psycopg
from psycopg.rows import dict_row

from buurtsignaal.adapters.apikeys import create_key, ensure_tenant
from buurtsignaal.adapters.users import add_user
from buurtsignaal.config import REPO_ROOT
from services.detector.detection import load_detector
from tests.support import infra
from tests.support.notes import note
from tests.support.screenshots import screenshot_dir
from tests.support.services import ServiceProcs, login, metric_value

PASSWORD = "correct-horse-battery"
NOTES = [json.loads(line) for line in (Path(__file__).parent / "notes.jsonl").read_text(
    encoding="utf-8").splitlines()]


def cli(procs: ServiceProcs, *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([sys.executable, "-m", "buurtsignaal.cli", *args], env=procs.env,
                          capture_output=True, text=True, timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def form_fields(html: str, action: str) -> dict[str, str]:
    form = re.search(rf'<form method="post" action="{re.escape(action)}".*?</form>', html, re.S)
    assert form, f"no form for {action}"
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(0)))


def decide(ui: httpx.Client, case_id: int, to: str, reason: str) -> None:
    for step, why in (("in_behandeling", ""), (to, reason)):
        fields = form_fields(ui.get(f"/zaken/{case_id}").text, f"/zaken/{case_id}/status")
        r = ui.post(f"/zaken/{case_id}/status", data={**fields, "naar": step, "reden": why},
                    follow_redirects=True)
        assert r.status_code == 200, r.text[:500]


def flag_rate(model_dir: Path, texts: list[str]) -> float:
    detector = load_detector(model_dir)
    return sum(d.flag for d in detector.detect_many(enumerate(texts))) / len(texts)


def detector_version(procs: ServiceProcs) -> str:
    return httpx.get(procs.url("detector") + "/healthz").json()["model_version"]


def scored_count(url: str) -> int:
    return infra.query(url, "SELECT count(*) AS n FROM note_scores")[0]["n"]


def send(procs: ServiceProcs, key: str, notes: list[dict]) -> None:  # type: ignore[type-arg]
    r = httpx.post(procs.url("ingest") + "/v1/notes", json={"notes": notes},
                   headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert r.status_code == 202, r.text


def test_reviews_lower_the_false_positive_rate_and_an_admin_activates_and_rolls_back(
        learning_stack: ServiceProcs, registry: Path) -> None:
    procs, url = learning_stack, learning_stack.settings.database_url
    with psycopg.connect(url, row_factory=dict_row) as conn:
        ensure_tenant(conn, "corp-e2e")
        key = create_key(conn, "corp-e2e")
        add_user(conn, "adv.a", PASSWORD, "adv_medewerker", adv_region="midden-nederland")
        add_user(conn, "beheerder", PASSWORD, "beheerder")
    shipped = detector_version(procs)

    # 1. Notes for review: the false-positive class and a few real cases, one household each.
    review = [r for r in NOTES if r["use"] == "review"]
    bodies = [note(r["text"], address={"postcode": "3531 AB", "house_number": 100 + i})
              for i, r in enumerate(review)]
    sent = {b["external_id"]: r for b, r in zip(bodies, review, strict=True)}
    send(procs, key, bodies)
    infra.wait_until(lambda: scored_count(url) == len(sent), timeout=120, what="review notes scored")
    cases = infra.query(url, "SELECT c.id, n.external_id FROM cases c JOIN notes n ON n.id = c.note_id "
                             "ORDER BY c.id")
    fp_cases = [c["id"] for c in cases if not sent[c["external_id"]]["flag"]]
    tp_cases = [c["id"] for c in cases if sent[c["external_id"]]["flag"]]
    assert len(fp_cases) >= 12 and len(tp_cases) >= 6  # the shipped model flags most of the class

    # 2. Reviewers decide in the UI: the damage notes are dismissed, the real cases confirmed.
    with httpx.Client(base_url=procs.url("notifier"), timeout=30) as ui:
        login(ui, "adv.a", PASSWORD)
        for case_id in fp_cases:
            decide(ui, case_id, "afgewezen", "schade of diefstal zonder verband met afkomst")
        for case_id in tp_cases:
            decide(ui, case_id, "bevestigd", "scheldwoord of symbool gericht op de bewoner")
    labels = infra.query(url, "SELECT is_discrimination, count(*) AS n FROM case_labels "
                              "WHERE source = 'besluit' GROUP BY 1 ORDER BY 1")
    assert [(r["is_discrimination"], r["n"]) for r in labels] == [(False, len(fp_cases)),
                                                                   (True, len(tp_cases))]

    # 3. Retrain on the corpus plus the reviews; compare with the active (shipped) model.
    done = cli(procs, "train", "--include-reviews")
    candidate = re.search(r"kandidaat (\S+) in", done.stdout + done.stderr).group(1)  # type: ignore[union-attr]
    assert (registry / candidate / "manifest.json").exists() and candidate != shipped
    manifest = json.loads((registry / candidate / "manifest.json").read_text(encoding="utf-8"))
    assert "test.jsonl" not in manifest["train_files"] + manifest["dev_files"]
    assert sum(p["afgewezen"] for p in manifest["reviews"]["parts"].values()) == len(fp_cases)
    done = cli(procs, "evaluate", "--candidate", candidate)
    assert "apart gehouden: afgewezen gemeld" in done.stdout
    evaluation = json.loads((registry / candidate / "evaluation.json").read_text(encoding="utf-8"))
    assert evaluation["active"]["version"] == shipped and evaluation["candidate"]["version"] == candidate
    assert evaluation["candidate"]["test"]["flag"]["recall"] >= 0.8  # still finds the real cases

    # 4. The held-out part of the class (never sent, never reviewed): fewer false positives.
    held_out = [r["text"] for r in NOTES if r["use"] == "heldout"]
    before, after = flag_rate(registry / "current", held_out), flag_rate(registry / candidate, held_out)
    print(f"held-out false-positive rate of the class: {before:.2f} -> {after:.2f}")
    assert before >= 0.5 and after <= before - 0.25

    # 5. An admin activates the candidate in the UI; the detector switches; then rolls back.
    with httpx.Client(base_url=procs.url("notifier"), timeout=30) as reviewer:
        login(reviewer, "adv.a", PASSWORD)
        assert reviewer.get("/modellen").status_code == 404  # admins only
    with httpx.Client(base_url=procs.url("notifier"), timeout=30) as admin:
        login(admin, "beheerder", PASSWORD)
        page = admin.get("/modellen").text
        assert candidate in page and "nog niet geëvalueerd" not in page
        fields = form_fields(page, "/modellen/activeren")
        refused = admin.post("/modellen/activeren", data={**fields, "versie": candidate, "reden": ""})
        assert refused.status_code == 422 and "Geef een reden op" in refused.text
        r = admin.post("/modellen/activeren", data={**fields, "versie": candidate,
                                                     "reden": "minder valse meldingen bij schade"},
                       follow_redirects=True)
        assert r.status_code == 200 and "Het model is geactiveerd" in r.text
        infra.wait_until(lambda: detector_version(procs) == candidate, timeout=30,
                         what="detector switched to the candidate")
        probe = note(held_out[0], address={"postcode": "3531 AB", "house_number": 300})
        send(procs, key, [probe])
        infra.wait_until(lambda: scored_count(url) == len(sent) + 1, timeout=60, what="probe scored")
        scored = infra.query(url, "SELECT s.model_version FROM note_scores s JOIN notes n "
                                  "ON n.id = s.note_id WHERE n.external_id = %s", (probe["external_id"],))
        assert scored[0]["model_version"] == candidate
        assert metric_value(httpx.get(procs.url("detector") + "/metrics").text,
                            f'buurtsignaal_detector_model_info{{model_version="{candidate}"}}') == 1

        page = admin.get("/modellen").text
        r = admin.post("/modellen/terugdraaien", data={**form_fields(page, "/modellen/terugdraaien"),
                                                        "reden": "terug naar het meegeleverde model"},
                       follow_redirects=True)
        assert r.status_code == 200 and "teruggedraaid" in r.text
        infra.wait_until(lambda: detector_version(procs) == shipped, timeout=30,
                         what="detector back on the shipped model")
        # The page shows, per model version, how reviewers judged its signals per ground.
        assert "afgewezen" in admin.get("/modellen").text

    history = infra.query(url, "SELECT actor, action, version, previous_version "
                               "FROM model_activations ORDER BY id")
    assert [(h["action"], h["version"], h["previous_version"]) for h in history] == [
        ("activate", candidate, shipped), ("rollback", shipped, candidate)]
    audit = infra.query(url, "SELECT actor, action, detail FROM audit_log "
                             "WHERE action LIKE 'model_%' ORDER BY id")
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("beheerder", "model_action_refused"), ("beheerder", "model_activated"),
        ("beheerder", "model_rolled_back")]
    assert audit[1]["detail"]["version"] == candidate and audit[2]["detail"]["rolled_back"] == candidate
    gauges = httpx.get(procs.url("notifier") + "/metrics").text
    dismissed = [line for line in gauges.splitlines()
                 if line.startswith("buurtsignaal_review_decisions_by_model{")
                 and f'model_version="{shipped}"' in line and 'decision="afgewezen"' in line]
    assert sum(float(line.rsplit(" ", 1)[1]) for line in dismissed) >= len(fp_cases)


def test_admin_pages_render_in_a_browser(learning_stack: ServiceProcs) -> None:
    """The Modellen and Rapportage pages in Chromium (CSP on: the charts are data: images, the
    report CSS comes from the app); screenshots for the docs."""
    from playwright.sync_api import expect, sync_playwright

    with psycopg.connect(learning_stack.settings.database_url) as conn:
        add_user(conn, "beheerder", PASSWORD, "beheerder")  # also when run on its own
    base = learning_stack.url("notifier")
    shots = screenshot_dir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/login")
        page.fill("#username", "beheerder")
        page.fill("#password", PASSWORD)
        page.press("#password", "Enter")
        expect(page.locator(".who")).to_contain_text("beheerder")
        page.click("text=Modellen")
        expect(page.locator("h1")).to_have_text("Modellen")
        expect(page.locator(".model-active")).not_to_be_empty()
        page.screenshot(path=str(shots / "modellen.png"), full_page=True)
        page.click("text=Rapportage")
        page.fill("input[name=periode]", "2026-11")
        page.click("button:has-text('Tonen')")
        expect(page.locator(".bs-figures")).to_be_visible()
        assert page.evaluate("Array.from(document.querySelectorAll('.bs-chart img'))"
                             ".every(i => i.complete && i.naturalWidth > 300)")
        # the report stylesheet applied (a grid of key figures), so CSP let it through
        assert page.evaluate("getComputedStyle(document.querySelector('.bs-figures')).display") == "grid"
        page.screenshot(path=str(shots / "rapportage.png"), full_page=True)
        browser.close()
