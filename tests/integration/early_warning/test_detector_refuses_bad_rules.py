"""The detector service validates the rules file at start and refuses to run with a broken one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from buurtsignaal.devstack import free_port


def test_detector_stops_at_start_with_every_problem_listed(tmp_path: Path) -> None:
    rules = tmp_path / "regels.yaml"
    rules.write_text(
        "version: 1\n"
        "household_rules:\n"
        "  - {name: reeks, kind: count, level: escalate, min_notes: 3, within: 90 dagen}\n"
        "  - {name: ernstig, kind: single, level: urgent, min_severity: 3, drempel: 2}\n",
        encoding="utf-8")
    env = {**os.environ, "BUURTSIGNAAL_EARLY_WARNING_RULES": str(rules),
           "BUURTSIGNAAL_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",  # never reached
           "BUURTSIGNAAL_DETECTOR_PORT": str(free_port())}
    result = subprocess.run([sys.executable, "-m", "buurtsignaal.cli", "serve", "detector"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "household_rules[0] (reeks).within: ongeldige duur '90 dagen'" in output
    assert "household_rules[1] (ernstig).level: moet een van 'watch' of 'escalate' zijn" in output
    assert "household_rules[1] (ernstig).drempel: onbekend veld" in output
