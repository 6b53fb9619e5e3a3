"""The learning loop: reviewer decisions become training examples, a candidate model is trained
and evaluated, and an admin activates it (or rolls it back) in the review UI.

reviews.py   export of reviewed cases from PostgreSQL (pseudonymised text + the reviewer's label)
registry.py  model versions in models/detector/<version>/ and the active one (table
             model_activations, append-only)
retrain.py   `buurtsignaal train --include-reviews`
compare.py   `buurtsignaal evaluate --candidate V` and `--by-group` (bias audit)
active.py    how the detector service picks the active model at start and on a poll
"""
