"""The detector: spaCy tokenizer + lookup lemmatizer, YAML recognizers, rules and a linear model.

One code path for everything: the CLI, the streaming service, training and evaluation all go
through `Detector.analyse` and `Detector.decide`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from operator import attrgetter
from pathlib import Path

import numpy as np
import spacy
from spacy.attrs import IDX, ORTH
from spacy.language import Language

from buurtsignaal.domain.signals import Detection, Evidence
from buurtsignaal.domain.taxonomy import FORMS, GROUND_LABELS_NL, GROUNDS

from . import rules
from .analysis import NoteAnalysis
from .explain import to_evidence
from .features import N_HASH, dense_feature_names, word_hash_index
from .model import DetectorModel, load_model
from .normalize import deleet_text, name_positions, normalise_token
from .paths import RECOGNIZER_DIR, default_model_dir
from .phrases import Candidates
from .recognizers import RecognizerSet, TokenHits, load_recognizers
from .scoring import BatchScorer

RULES_VERSION = "detector-1.0.0+rules"
DEFAULT_THRESHOLD = 0.5
CONTEXT_DAMPING = 0.7
BATCH_SIZE = 512
TOKENIZER_CACHE_SIZE = 200_000  # whitespace-separated chunks (about 20 MB with ours)
# Hit kinds that can carry a flag: a span a reviewer can check as hostile.
SIGNAL_KINDS = frozenset({"slur", "act", "exclusion", "attribution"})
_QUOTES = frozenset("\"'‘’“”„«»")
# Head names of the ground and form heads, built once instead of per flagged note.
_GROUND_KEYS = tuple((g, f"ground:{g}") for g in GROUNDS)
_FORM_KEYS = tuple((f, f"form:{f}") for f in FORMS)
_EVIDENCE_ORDER = attrgetter("start", "end")

# spaCy does not document its tokenizer cache as thread-safe; tokenising is a small part of the
# per-note cost, so one lock per process is cheap insurance.
_NLP_LOCK = threading.Lock()
_ORTH_IDX = [ORTH, IDX]
# Per token form (orth): text, normalised form, normalised lemma, token-level recognizer hits,
# phrase patterns that may start in it.
_Form = tuple[str, str, str, TokenHits, Candidates | None]
_norm = lru_cache(maxsize=400_000)(normalise_token)


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    """Blank Dutch pipeline with only the lookup lemmatizer: tables ship in spacy-lookups-data.

    Built once per process and shared by every Detector (guarded by _NLP_LOCK).
    """
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    # spaCy caches the tokens of at most 10,000 distinct whitespace-separated chunks and then
    # tokenises every new chunk the slow way (affix regexes, special cases). Notes quote words
    # with punctuation attached, so a batch run fills that in a few thousand notes. The cache
    # only remembers results: a larger one changes no token.
    nlp.tokenizer.max_cache_size = TOKENIZER_CACHE_SIZE
    return nlp


@dataclass(frozen=True, slots=True)
class Decision:
    flag: bool
    score: float
    grounds: tuple[str, ...]
    forms: tuple[str, ...]
    severity: int
    evidence: tuple[Evidence, ...]


class Detector:
    """Implements buurtsignaal.domain.signals.NoteDetector. Safe to share between threads."""

    def __init__(self, recognizers: RecognizerSet, model: DetectorModel | None = None,
                 threshold: float | None = None, nlp: Language | None = None) -> None:
        self.recognizers = recognizers
        self.model = model if model and model.heads else None
        self.nlp = nlp or build_nlp()
        self.dense_names = dense_feature_names(recognizers)
        self._forms: dict[int, _Form] = {}
        self._chunks_seen: set[str] = set()
        self._lemma_table = (self.nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup", {})
                             if "lemmatizer" in self.nlp.pipe_names else None)
        self._scorer = BatchScorer(self.model.heads, self.dense_names) if self.model else None
        # Columns of the scorer's output: the flag head (if any) and the label heads in the
        # model's order without it, as head_probs has always returned them.
        self._label_names: list[str] = []
        self._flag_col: int | None = None
        self._label_cols: list[int] = []
        if self._scorer is not None:
            names = self._scorer.names
            self._flag_col = names.index("flag") if "flag" in names else None
            self._label_names = [n for n in names if n != "flag"]
            self._label_cols = [names.index(n) for n in self._label_names]
        if threshold is not None:
            self.threshold = threshold
        elif model is not None:
            self.threshold = model.threshold
        else:
            self.threshold = DEFAULT_THRESHOLD
        self.blend = model.blend() if self.model else 0.0
        self.rule_margin = float(model.manifest.get("rule_margin", 1.0)) if model else 1.0
        self.ground_threshold = float(model.manifest.get("ground_threshold", 0.5)) if model else 0.5
        self.form_threshold = float(model.manifest.get("form_threshold", 0.5)) if model else 0.5
        # Per-form overrides chosen on dev (training.per_form_thresholds); read on every decision
        # so that tuning can change them on a live Detector.
        self.form_thresholds: dict[str, float] = (
            {k: float(v) for k, v in model.manifest.get("form_thresholds", {}).items()}
            if model else {})
        self.model_version = model.version if model else RULES_VERSION
        self.severity_mode = str(model.manifest.get("severity_mode", "rule")) if model else "rule"
        # Word-unigram weights of the flag head, for naming the words behind a model-led flag.
        self._flag_word_weights: dict[int, float] | None = None
        self._lemma_weight_cache: dict[str, float] = {}
        if self.model and "flag" in self.model.heads:
            head = self.model.heads["flag"]
            in_words = (head.hashed_idx >= N_HASH) & (head.hashed_idx < 2 * N_HASH)
            self._flag_word_weights = dict(zip(
                (head.hashed_idx[in_words] - N_HASH).tolist(),
                head.hashed_val[in_words].tolist(), strict=True))

    # ------------------------------------------------------------ public API
    def detect(self, note_id: str, text: str) -> Detection:
        return next(self.detect_many([(note_id, text)]))

    def detect_many(self, items: Iterable[tuple[str, str]],
                    batch_size: int = BATCH_SIZE) -> Iterator[Detection]:
        """Score (id, text) pairs in input order, in batches for spaCy and the model."""
        it = iter(items)
        while True:
            chunk = list(islice(it, batch_size))
            if not chunk:
                return
            ids = [str(i) for i, _ in chunk]
            analyses = self.analyse([t for _, t in chunk])
            for note_id, decision in zip(ids, self.decide(analyses), strict=True):
                yield Detection(
                    id=note_id, flag=decision.flag, score=decision.score,
                    grounds=decision.grounds, forms=decision.forms,
                    severity=decision.severity, evidence=decision.evidence,
                    model_version=self.model_version,
                )

    # ------------------------------------------------------------ internals
    def analyse(self, texts: Sequence[str]) -> list[NoteAnalysis]:
        """Tokenise (spaCy), lemmatise (the lookup lemmatizer's table) and run the recognizers.

        Per-token work is cached by token form: the tokenizer gives each token's orth hash, and
        text, normalised form, lemma, token-level recognizer hits and possible phrase starts are
        computed once per distinct form. This is what the pipeline's lookup lemmatizer does per
        token (lower-case, table look-up), without creating a Python Token object for every token.
        """
        prepared = [deleet_text(t) for t in texts]  # same length: offsets stay valid
        with _NLP_LOCK:
            self._prime_tokenizer(prepared)
            docs = list(self.nlp.tokenizer.pipe(prepared, batch_size=BATCH_SIZE))
        out = []
        get = self._forms.get
        make = self._form
        analyse_tokens = self.recognizers.analyse_tokens
        for text, doc in zip(texts, docs, strict=True):
            arr = doc.to_array(_ORTH_IDX)
            if not len(arr):
                words: list[str] = []
                norms: list[str] = []
                lemmas: list[str] = []
                idx: list[int] = []
                token_hits: list[TokenHits] = []
                candidates: list[Candidates | None] = []
            else:
                idx = arr[:, 1].tolist()
                rows = [get(o) or make(o) for o in arr[:, 0].tolist()]
                words, norms, lemmas, token_hits, candidates = (
                    list(x) for x in zip(*rows, strict=True))
            names = name_positions(words, norms)
            hits = analyse_tokens(words, norms, idx, text, names, token_hits, candidates)
            has_quote = not _QUOTES.isdisjoint(words)
            out.append(NoteAnalysis(text=text, norms=norms, lemmas=lemmas, hits=hits,
                                    has_quote=has_quote, words=words, starts=idx, names=names))
        return out

    def _prime_tokenizer(self, texts: Sequence[str]) -> None:
        """Let spaCy cache the tokens of every new whitespace-separated chunk.

        spaCy stops caching for the rest of a text once a chunk in it hit a special case
        ('nr.', 'dhr.', 'i.v.m.'), so in caretakers' notes most chunks were tokenised the slow
        way every time. Tokenising a new chunk once on its own caches it (unless it contains a
        special case itself). The cache holds the same tokens the slow way produces.
        """
        seen = self._chunks_seen
        if len(seen) >= TOKENIZER_CACHE_SIZE:
            return  # spaCy's cache is full by now: priming would not help any more
        new = {c for t in texts for c in t.split()}
        new.difference_update(seen)
        if not new:
            return
        tokenizer = self.nlp.tokenizer
        for chunk in new:
            tokenizer(chunk)
        seen.update(new)

    def _form(self, orth: int) -> _Form:
        """Everything about one token form that does not depend on its note; cached."""
        word = self.nlp.vocab.strings[orth]
        low = word.lower()
        lemma = self._lemma_table.get(low, low) if self._lemma_table is not None else low
        norm, norm_lemma = _norm(word), _norm(lemma)
        rs = self.recognizers
        form = (word, norm, norm_lemma, rs.token_matches(norm, norm_lemma),
                rs.token_candidates(norm))
        if len(self._forms) > 500_000:  # bounded in a long-running service
            self._forms.clear()
        self._forms[orth] = form
        return form

    def head_probs(self, analyses: Sequence[NoteAnalysis]) -> tuple[list[str], np.ndarray]:
        """All head probabilities for all notes (training and tuning use this)."""
        if self._scorer is None:
            return [], np.zeros((len(analyses), 0))
        p = self._scorer.probabilities(analyses)
        if self._flag_col is None:
            return list(self._label_names), p[:, self._label_cols]
        return ["flag", *self._label_names], p[:, [self._flag_col, *self._label_cols]]

    def decide(self, analyses: Sequence[NoteAnalysis]) -> list[Decision]:
        """Flag score for every note; ground/form/severity heads only for flagged notes.

        The classifier only runs for notes with a hostile span: without one a note cannot be
        flagged (see _decide_one), so its features are not worth building. Such notes get the
        rule-only score (the classifier's share counted as 0), capped below the threshold.
        Flags, grounds, forms and severity are identical to scoring every note.
        """
        signals = [self.has_signal(a) for a in analyses]
        probs: list[dict[str, float]] = [{} for _ in analyses]
        rows = [i for i, s in enumerate(signals) if s]
        p = None
        if self._scorer is not None and rows:
            # All heads at once: cheaper than a second pass for the flagged notes.
            p = self._scorer.probabilities([analyses[i] for i in rows])
            if self._flag_col is not None:
                for i, pf in zip(rows, p[:, self._flag_col].tolist(), strict=True):
                    probs[i]["flag"] = pf
        scored = []
        has_flag_head = self._flag_col is not None
        for a, pr, sig in zip(analyses, probs, signals, strict=True):
            if sig or not has_flag_head:
                scored.append((self._score(a, pr), sig))
            else:
                scored.append((self._score(a, {"flag": 0.0}), False))
        flagged = [k for k, i in enumerate(rows) if scored[i][0] >= self.threshold]
        if flagged and p is not None and self._label_names:
            labels = p[flagged][:, self._label_cols]
            for k, label_row in zip(flagged, labels.tolist(), strict=True):
                probs[rows[k]].update(zip(self._label_names, label_row, strict=True))
        return [self._decide_one(a, pr, sc) for a, pr, sc in zip(analyses, probs, scored,
                                                                 strict=True)]

    @staticmethod
    def has_signal(a: NoteAnalysis) -> bool:
        """Whether the note has a hostile span to show a reviewer (needed for a flag)."""
        return not SIGNAL_KINDS.isdisjoint(a.active_kinds()) or (
            bool(a.of_kind("identity")) and rules.quoted_at_someone(a))

    def raw_score(self, a: NoteAnalysis, probs: dict[str, float]) -> tuple[float, bool]:
        """(score before the threshold, whether a hostile span exists to show a reviewer)."""
        return self._score(a, probs), self.has_signal(a)

    def _score(self, a: NoteAnalysis, probs: dict[str, float]) -> float:
        rscore = rules.rule_score(a)
        score = rscore
        if "flag" in probs:
            score = self.blend * probs["flag"] + (1.0 - self.blend) * rscore
            # The rule score minus a margin is a lower bound: clear recognizer evidence (a slur,
            # a swastika, 'ga terug naar je eigen land') is not talked away by n-gram statistics
            # learned from a few writers. The margin is tuned on dev (1.0 switches it off).
            score = max(score, rscore - self.rule_margin)
            if a.effects() & rules.STATED_NOT_INCIDENT:
                # The note says itself that this is no incident (negation, counter-speech, found
                # unfounded). The rule score already counts that; the classifier mostly sees the
                # quoted slur, so its share is damped as well (0.7: removes dev false alarms and
                # costs no recall on train or dev).
                score *= CONTEXT_DAMPING
        return score

    def _decide_one(self, a: NoteAnalysis, probs: dict[str, float],
                    scored: tuple[float, bool]) -> Decision:
        score, has_signal = scored
        flag = score >= self.threshold and has_signal
        if not flag and score >= self.threshold:
            # No hostile span to show a reviewer: a flag without evidence is a bug, so don't.
            score = min(score, max(self.threshold - 0.01, 0.0))
        if not flag:
            evidence = tuple(to_evidence(h) for h in a.hits)
            return Decision(False, round(score, 4), (), (), 0, evidence)

        grounds = set(rules.rule_grounds(a))
        forms = set(rules.rule_forms(a))
        for g, key in _GROUND_KEYS:
            if probs.get(key, 0.0) >= self.ground_threshold:
                grounds.add(g)
        for f, key in _FORM_KEYS:
            if probs.get(key, 0.0) >= self.form_thresholds.get(f, self.form_threshold):
                forms.add(f)
        if not grounds:
            grounds = {self._fallback_ground(probs)}
        if not forms:
            forms = {"overig"}
        ground_list = tuple(g for g in GROUNDS if g in grounds)
        form_list = tuple(f for f in FORMS if f in forms)
        severity = self._severity(rules.rule_severity(a, list(form_list)), probs)
        evidence = [to_evidence(h) for h in a.hits]
        if SIGNAL_KINDS.isdisjoint(a.active_kinds()):
            evidence += self._quote_and_model_evidence(a, ground_list)
        evidence.sort(key=_EVIDENCE_ORDER)
        return Decision(True, round(score, 4), ground_list, form_list, severity, tuple(evidence))

    def _quote_and_model_evidence(self, a: NoteAnalysis,
                                  grounds: tuple[str, ...]) -> list[Evidence]:
        """For a flag carried by a quoted remark plus an identity mention: say so explicitly,
        and name the words the classifier weighed most, so the reviewer sees why."""
        labels = ", ".join(GROUND_LABELS_NL.get(g, g) for g in grounds)
        out = [Evidence(h.start, h.end, h.text, f"{h.recognizer.name}/{h.pattern}",
                        f"Geciteerde uitspraak tegen een bewoner, met vermelding van {labels}: "
                        f"'{h.text}'")
               for h in a.active if h.recognizer.effect == "quote"
               and h.pattern == "aanhalingstekens"]
        out += self._model_words(a)
        return out

    def _model_words(self, a: NoteAnalysis, top: int = 3) -> list[Evidence]:
        """The tokens whose lemma has the largest positive weight in the flag head."""
        if self._flag_word_weights is None:
            return []
        ranked = sorted(
            ((self._lemma_weight(lemma), i) for i, lemma in enumerate(a.lemmas)
             if len(lemma) > 2 and lemma.isalpha()),
            reverse=True)
        out: list[Evidence] = []
        seen: set[str] = set()
        for w, i in ranked:
            if w <= 0.05 or len(out) >= top:
                break
            if a.lemmas[i] in seen:
                continue
            seen.add(a.lemmas[i])
            start, end = a.starts[i], a.starts[i] + len(a.words[i])
            out.append(Evidence(start, end, a.text[start:end], "classifier/woordgewicht",
                                "Woord dat het model sterk met discriminatie verbindt: "
                                f"'{a.text[start:end]}'"))
        return out

    def _severity(self, rule_sev: int, probs: dict[str, float]) -> int:
        """Rule severity, optionally combined with the severity heads (mode chosen on dev)."""
        p = [probs.get(f"sev:{k}") for k in (1, 2, 3)]
        if self.severity_mode == "rule" or any(x is None for x in p):
            return rule_sev
        total = sum(p) or 1.0  # type: ignore[arg-type]
        expected = sum(k * x for k, x in zip((1, 2, 3), p, strict=True)) / total  # type: ignore[misc]
        model_sev = 1 + max(range(3), key=lambda i: p[i])  # type: ignore[arg-type,return-value]
        if self.severity_mode == "model":
            return model_sev
        if self.severity_mode == "max":
            return max(rule_sev, model_sev)
        return int(min(3, max(1, round((rule_sev + expected) / 2 + 1e-9))))

    @staticmethod
    def _fallback_ground(probs: dict[str, float]) -> str:
        """The model's most likely ground, or 'herkomst' (by far the most reported ground)."""
        best = max(((p, n.split(":", 1)[1]) for n, p in probs.items() if n.startswith("ground:")),
                   default=(0.0, "herkomst"))
        return best[1]

    def _lemma_weight(self, lemma: str) -> float:
        assert self._flag_word_weights is not None
        cached = self._lemma_weight_cache.get(lemma)
        if cached is None:
            idx = word_hash_index(lemma)
            cached = float(self._flag_word_weights.get(idx, 0.0))
            self._lemma_weight_cache[lemma] = cached
        return cached


def load_detector(model_dir: Path | None = None, threshold: float | None = None,
                  recognizer_dir: Path | None = None) -> Detector:
    """Load the shipped detector. Works from any working directory; no network needed."""
    directory = Path(model_dir) if model_dir is not None else default_model_dir()
    recognizers = load_recognizers(Path(recognizer_dir) if recognizer_dir else RECOGNIZER_DIR)
    model = load_model(directory) if directory.exists() else None
    return Detector(recognizers, model, threshold=threshold)
