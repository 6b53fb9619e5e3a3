"""Early warning: repeated targeting of a household or an area (docs/early-warning.md).

- config.py       rules YAML (config/early-warning.yaml): loading and validation
- observation.py  what is remembered of one note (from a Detection or a note-scored event)
- rules.py        rule conditions at one point in event time
- engine.py       state per key, event-time evaluation, dedup/upgrade (pure)
- summary.py      plain-Dutch summaries
- alerts.py       alert.v1 events and the backtest line
- backtest.py     `Steps` shared with the streaming detector; `run_backtest`
- evaluation.py   scenario evaluation (precision, recall, time to escalation)
- streaming.py    faust tables and agents inside the detector service
- cli.py          `buurtsignaal backtest`
"""
