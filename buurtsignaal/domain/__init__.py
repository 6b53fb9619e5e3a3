"""Domain core: pure Python, no I/O. Notes, signals, cases and the taxonomy."""
