"""Monitoring reports for ADVs and municipalities: counts by ground, form, severity, municipality
and month, protected against small cells (docs/reports.md, docs/decisions/0050-0052).

aggregate.py and suppression.py are pure; source.py reads PostgreSQL; render_*.py and charts.py
produce HTML, CSV and PDF; cli.py adds `buurtsignaal report`.
"""
