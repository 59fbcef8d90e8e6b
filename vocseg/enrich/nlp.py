"""vocseg's spaCy pipeline components: sentence records, aspects with opinions, intent cues.

Registered with ``Language.factory`` and added behind the packaged ``en_core_web_sm``, so
they run inside ``nlp.pipe`` (and its worker processes). Each writes plain data (lists,
dicts, numbers) to a Doc extension, which survives the trip from a worker back to the
main process:

* ``vocseg_sentences`` -> ``doc._.vocseg_sents``: per sentence ``start``, ``end``, ``text``,
  ``lemmas`` (content-word lemmas), ``chunks`` (noun chunks), ``ents`` (text, label, start, end).
* ``vocseg_aspects`` -> ``doc._.vocseg_aspects``: opinion targets from the dependency parse,
  each ``(sent_idx, aspect, text, opinion, negated, valence, start, end)``; ``valence`` is the
  opinion words' lexicon valence (VADER scale, after negation) or ``None`` when no opinion
  word is in the lexicon (the sentence's own sentiment decides then).
* ``vocseg_cues`` -> ``doc._.vocseg_cues``: per sentence ``"request"``, ``"question"`` or ``None``.
* ``vocseg_lexicon`` -> ``doc._.vocseg_lex``: the sentiment model's lexicon features (VADER
  compound, pos, neg, neu) of the whole text and of each sentence, computed in the workers.

Example::

    nlp = models.load_spacy(cfg.models)
    add_components(nlp)
    doc = nlp("Great food but slow service.")
    doc._.vocseg_aspects   # [(0, 'food', 'food', 'great', False, 3.1, 6, 10), (0, 'service', ...)]
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Token

SENTS_EXT, ASPECTS_EXT, CUES_EXT, LEX_EXT = (
    "vocseg_sents",
    "vocseg_aspects",
    "vocseg_cues",
    "vocseg_lex",
)
for _name in (SENTS_EXT, ASPECTS_EXT, CUES_EXT, LEX_EXT):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)

#: components vocseg adds, in order; and the packaged ones it does not need
COMPONENTS = ("vocseg_sentences", "vocseg_aspects", "vocseg_cues", "vocseg_lexicon")
NEGATIONS = {
    "not",
    "n't",
    "never",
    "no",
    "hardly",
    "barely",
    "nothing",
    "neither",
    "nor",
    "without",
    "cannot",
}
#: VADER's scalar for a negated word (Hutto & Gilbert 2014)
NEGATION_SCALAR = -0.74
_SKIP_TARGETS = {
    "thing",
    "things",
    "lot",
    "bit",
    "one",
    "way",
    "time",
    "day",
    "everything",
    "something",
    "anything",
}


def _lexicon() -> dict[str, float]:
    from vocseg.enrich.sentiment import make_analyzer

    return dict(make_analyzer(domain=True).lexicon)


def _boosters() -> dict[str, float]:
    from vaderSentiment.vaderSentiment import BOOSTER_DICT

    return dict(BOOSTER_DICT)


# --- sentences --------------------------------------------------------------------

SPANS_EXT = "vocseg_spans"
if not Doc.has_extension(SPANS_EXT):
    Doc.set_extension(SPANS_EXT, default=None)


def sentence_spans(doc: Doc) -> list[tuple[int, int]]:
    """Token (start, end) of the non-blank sentences, computed once per Doc: every ``doc.sents``
    and ``token.sent`` walks the whole Doc again, which cost more than our components' work."""
    spans = doc._.get(SPANS_EXT)
    if spans is None:
        spans = [(s.start, s.end) for s in doc.sents if s.text.strip()]
        doc._.set(SPANS_EXT, spans)
    return spans


@Language.factory(
    "vocseg_sentences", requires=["token.lemma", "doc.sents"], assigns=[f"doc._.{SENTS_EXT}"]
)
def make_sentences(nlp: Language, name: str) -> SentenceRecords:
    return SentenceRecords()


class SentenceRecords:
    """Per-sentence offsets, content lemmas, noun chunks and entities as plain data."""

    def __call__(self, doc: Doc) -> Doc:
        import bisect

        spans = sentence_spans(doc)
        starts = [a for a, _ in spans]
        chunks: list[list[str]] = [[] for _ in spans]
        ents: list[list[tuple]] = [[] for _ in spans]

        def owner(i: int) -> int | None:
            k = bisect.bisect_right(starts, i) - 1
            return k if k >= 0 and i < spans[k][1] else None

        try:
            for chunk in doc.noun_chunks:
                words = [t.lower_ for t in chunk if t.pos_ not in ("DET", "PRON", "PUNCT")]
                k = owner(chunk.start)
                if words and k is not None:
                    chunks[k].append(" ".join(words))
        except ValueError:  # no parser: no noun chunks
            pass
        for e in doc.ents:
            k = owner(e.start)
            if k is not None and e.end <= spans[k][1]:
                ents[k].append((e.text, e.label_, e.start_char, e.end_char))
        records = []
        for k, (a, b) in enumerate(spans):
            sent = doc[a:b]
            lemmas = " ".join(
                t.lemma_.lower() for t in sent if t.is_alpha and not t.is_stop and len(t) > 1
            )
            records.append(
                {
                    "start": sent.start_char,
                    "end": sent.end_char,
                    "text": sent.text,
                    "lemmas": lemmas,
                    "chunks": chunks[k],
                    "ents": ents[k],
                }
            )
        doc._.set(SENTS_EXT, records)
        return doc


# --- aspects --------------------------------------------------------------------


@Language.factory(
    "vocseg_aspects",
    requires=["token.dep", "token.pos", "token.lemma", "doc.sents"],
    assigns=[f"doc._.{ASPECTS_EXT}"],
)
def make_aspects(nlp: Language, name: str) -> AspectExtractor:
    return AspectExtractor(_lexicon(), _boosters())


def _is_target(tok: Token) -> bool:
    return (
        tok.pos_ in ("NOUN", "PROPN")
        and not tok.like_url
        and not tok.text.startswith(("@", "#"))
        and tok.lower_ not in _SKIP_TARGETS
        and len(tok.text) > 1
    )


def _with_conjuncts(tok: Token) -> list[Token]:
    return [tok, *[c for c in tok.conjuncts if c.pos_ == tok.pos_ or _is_target(c)]]


def _negated(*toks: Token) -> bool:
    for tok in toks:
        if tok is None:
            continue
        for c in tok.children:
            if c.dep_ == "neg" or c.lower_ in NEGATIONS:
                return True
    return False


class AspectExtractor:
    """Opinion targets and opinion words from the dependency parse.

    Patterns (spaCy's English labels): ``amod`` (slow *service*), copula with ``acomp``/``attr``
    (the *page* is slow), opinion verbs with an object or subject (I love the *app*, the *app*
    crashes), conjoined targets and opinions (food and drinks were great, cheap and cheerful).
    Negation (``neg`` child, 'never', 'no') flips the valence by VADER's scalar. Each aspect
    gets only its own opinion words, so in 'great food but slow service' the two disagree.
    """

    def __init__(self, lexicon: dict[str, float], boosters: dict[str, float]) -> None:
        self.lexicon = lexicon
        self.boosters = boosters

    def valence(self, tok: Token) -> float | None:
        for form in (tok.lower_, tok.lemma_.lower()):
            v = self.lexicon.get(form)
            if v is not None:
                return float(v)
        return None

    def _opinion(
        self, op: Token, extra_neg: Iterable[Token] = ()
    ) -> tuple[str, float | None, bool]:
        mods = [c for c in op.children if c.dep_ in ("advmod", "npadvmod") and c.i < op.i]
        words = [*mods, op]
        base = self.valence(op)
        if base is not None:
            for m in mods:
                b = self.boosters.get(m.lower_)
                mv = self.valence(m)
                if b is not None:
                    base += math.copysign(abs(b), base) if base else 0.0
                elif mv is not None and (mv > 0) == (base > 0):
                    base += 0.3 * mv
        negated = _negated(op, *extra_neg)
        if base is not None and negated:
            base *= NEGATION_SCALAR
        text = " ".join(t.text for t in sorted(words, key=lambda t: t.i))
        if negated:
            neg_words = [
                c.text
                for t in (op, *extra_neg)
                for c in t.children
                if c.dep_ == "neg" or c.lower_ in NEGATIONS
            ]
            text = " ".join(dict.fromkeys(neg_words)) + " " + text
        return text.strip(), base, negated

    @staticmethod
    def _target_span(tok: Token) -> tuple[str, str, int, int]:
        parts = [c for c in tok.lefts if c.dep_ == "compound" and _is_target(c)] + [tok]
        start = parts[0].idx
        end = tok.idx + len(tok.text)
        lemma = " ".join(t.lemma_.lower() if t is tok else t.lower_ for t in parts)
        text = tok.doc[parts[0].i : tok.i + 1].text  # not doc.text[start:end]: that joins every token
        return lemma, text, start, end

    @staticmethod
    def _subjects(verb: Token, sent_start: int = 0) -> list[Token]:
        """Targets a verb's opinion is about: its noun subjects (and their conjuncts), 'it' and
        'they' resolved to the last target before them, or, when the parser left the verb
        without a subject ('... and the agent was rude'), the noun just before it."""
        subs = [c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")]
        out: list[Token] = []
        for sub in subs:
            if _is_target(sub):
                out += _with_conjuncts(sub)
            elif sub.lower_ in ("it", "they", "this", "that"):
                prev = [t for t in sub.doc[max(0, sub.i - 30) : sub.i] if _is_target(t)]
                if prev:
                    out.append(prev[-1])
        if not subs:
            left = verb.doc[max(sent_start, verb.i - 2) : verb.i]
            nouns = [t for t in left if _is_target(t)]
            out += nouns[-1:]
        return out

    def _pairs(self, tok: Token, ss: int) -> list[tuple[Token, Token, tuple[Token, ...]]]:
        if tok.dep_ == "amod" and _is_target(tok.head) and tok.pos_ in ("ADJ", "VERB"):
            return [(tok.head, tok, ())]
        if tok.dep_ in ("acomp", "attr", "oprd") and tok.pos_ in ("ADJ", "VERB"):
            return [(t, tok, (tok.head,)) for t in self._subjects(tok.head, ss)]
        if tok.dep_ == "conj" and tok.pos_ == "ADJ" and tok.head.pos_ == "ADJ":
            head = tok.head
            if head.dep_ == "amod" and _is_target(head.head):
                return [(head.head, tok, ())]
            if head.dep_ in ("acomp", "attr"):
                return [(t, tok, (head.head,)) for t in self._subjects(head.head, ss)]
            return []
        if tok.pos_ == "VERB" and self.valence(tok) is not None:
            objs = [c for c in tok.children if c.dep_ in ("dobj", "obj") and _is_target(c)]
            return [(t, tok, ()) for t in (objs or self._subjects(tok, ss))]
        return []

    def __call__(self, doc: Doc) -> Doc:
        found: dict[tuple[int, int], tuple] = {}
        for s_idx, (a, b) in enumerate(sentence_spans(doc)):
            sent = doc[a:b]
            for tok in sent:
                for target, op, extra in self._pairs(tok, sent.start):
                    opinion, valence, negated = self._opinion(op, extra)
                    aspect, text, start, end = self._target_span(target)
                    key = (start, op.i)
                    if key not in found:
                        found[key] = (s_idx, aspect, text, opinion, negated, valence, start, end)
        doc._.set(ASPECTS_EXT, sorted(found.values(), key=lambda a: (a[6], a[3])))
        return doc


# --- intent cues ----------------------------------------------------------------

_REQUEST = re.compile(
    r"\b(i wish|wish (?:you|they|there)|please (?:add|make|fix|bring|include|consider|allow|let|"
    r"give|offer|support|update|change|improve)|pls add|(?:can|could|would|will) (?:you|they) "
    r"(?:please )?(?:add|make|fix|bring|include|consider|allow|let|offer|support|improve)|"
    r"(?:would|it'd|it would|that'd) be (?:nice|great|good|helpful|awesome|cool|better) (?:if|to)|"
    r"(?:should|need to|needs to|ought to) (?:add|have|include|offer|allow|support|fix|bring|make)|"
    r"(?:i'd|i would|we'd|we would) (?:love|like) (?:to see|it if|an? |the option|more)|"
    r"(?:want|need) (?:an option|a way|the ability|to be able)|feature request|"
    r"hope (?:you|they) (?:add|fix|bring|make|consider))\b"
)
_WH = {"how", "why", "what", "when", "where", "who", "which", "whose"}
_AUX = {
    "can",
    "could",
    "is",
    "are",
    "do",
    "does",
    "did",
    "will",
    "would",
    "should",
    "has",
    "have",
    "am",
    "was",
}


@Language.factory("vocseg_cues", requires=["doc.sents", "token.dep"], assigns=[f"doc._.{CUES_EXT}"])
def make_cues(nlp: Language, name: str) -> IntentCues:
    return IntentCues()


class IntentCues:
    """Request and question cues per sentence (complaint/praise come from sentiment later)."""

    def __call__(self, doc: Doc) -> Doc:
        cues = [self.cue(doc[a:b]) for a, b in sentence_spans(doc)]
        doc._.set(CUES_EXT, cues)
        return doc

    @staticmethod
    def cue(sent: Any) -> str | None:
        low = sent.text.lower().replace("\u2019", "'")
        if _REQUEST.search(low):
            return "request"
        words = [t for t in sent if t.is_alpha]
        root = sent.root
        if (
            root.tag_ == "VB"
            and not any(c.dep_ in ("nsubj", "nsubjpass") for c in root.children)
            and any(t.lower_ in ("please", "pls", "plz") for t in sent)
        ):
            return "request"
        if low.rstrip().endswith("?"):
            return "question"
        if not words or words[0].i != sent.start:
            return None
        first = words[0].lower_
        if first in _WH and len(words) > 1 and words[1].pos_ == "AUX":
            return "question"  # 'why is ...', 'how can ...': not 'when I called ...'
        if (
            first in _AUX
            and words[0].pos_ == "AUX"
            and any(t.dep_ in ("nsubj", "nsubjpass", "expl") and t.i > words[0].i for t in sent)
        ):
            return "question"  # 'is there a way ...', 'can I change ...'
        return None


# --- lexicon features ------------------------------------------------------------


@Language.factory("vocseg_lexicon", requires=[f"doc._.{SENTS_EXT}"], assigns=[f"doc._.{LEX_EXT}"])
def make_lexicon(nlp: Language, name: str) -> LexiconFeatures:
    from vocseg.enrich.sentiment import make_analyzer

    return LexiconFeatures(make_analyzer(domain=True))


class LexiconFeatures:
    """``{"doc": [4 floats], "sents": [[4 floats], ...]}``: ``sentiment.lexicon_features`` of the
    text and of each sentence, so that this pure-Python work runs in spaCy's worker processes."""

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer

    def features(self, text: str) -> list[float]:
        s = self.analyzer.polarity_scores(text)
        return [s["compound"], s["pos"], s["neg"], s["neu"]]

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text  # joins every token: once per Doc, not once per sentence
        whole = self.features(text)
        sents = [whole if r["text"] == text else self.features(r["text"]) for r in sent_records(doc)]
        doc._.set(LEX_EXT, {"doc": whole, "sents": sents})
        return doc


def add_components(nlp: Language, *, aspects: bool = True) -> Language:
    """Add vocseg's components to a loaded pipeline (idempotent); returns it. The pipeline's
    attribute ruler, where there is one, finds its matches by :class:`AttributeMatches`."""
    for name in COMPONENTS:
        if name == "vocseg_aspects" and not aspects:
            continue
        if name not in nlp.pipe_names:
            nlp.add_pipe(name, last=True)
    if "attribute_ruler" in nlp.pipe_names:
        ruler = nlp.get_pipe("attribute_ruler")
        if "match" not in vars(ruler):
            fast = AttributeMatches.of(ruler)
            if fast is not None:
                ruler.match = fast
    return nlp


# --- the attribute ruler's matches ------------------------------------------------

#: token attributes an attribute-ruler pattern may test here (their ``Doc.to_array`` values
#: are string hashes, or 0/1 for the flags), from the one that tells tokens apart most to the
#: one that does least
_TOKEN_ATTRS = ("ORTH", "LOWER", "NORM", "LEMMA", "DEP", "TAG", "POS", "IS_SPACE", "IS_PUNCT",
                "IS_DIGIT", "IS_ALPHA", "IS_STOP")


class AttributeMatches:
    """What spaCy's ``AttributeRuler.match`` returns, found by looking each token's attributes
    up in an index of the ruler's patterns instead of running its Matcher.

    The Matcher tries every token against all of ``en_core_web_sm``'s 179 patterns, several of
    them through Python predicates: 1.42 s of spaCy's 10.3 s on 2,000 benchmark documents,
    the costliest step after the neural networks; the index finds the same matches in 0.35 s.
    :meth:`of` takes only patterns of plain token attributes (an exact value, ``IN``,
    ``NOT_IN`` or ``REGEX``; no operators) and returns ``None`` for a ruler with any other,
    which then keeps its Matcher; so does a ruler given patterns after the index was built.
    The ruler sorts and applies the matches itself, so later patterns still take precedence.
    """

    def __init__(self, ruler: Any, attrs: list[str], patterns: list[tuple[int, int, list[list[tuple]]]]) -> None:
        self.ruler = ruler
        self.attrs = attrs
        self.n_patterns = len(ruler.attrs)
        #: per column, a value of a pattern's first token -> (pattern, what else it checks)
        self.index: dict[int, dict[int, list[tuple]]] = {}
        #: patterns whose first token has no exact or IN check, tried at every token
        self.anywhere: list[tuple] = []
        for attr_id, match_id, tokens in patterns:
            first = tokens[0]
            # indexed by its most selective check: a word before a dependency before a tag
            keys = [(_TOKEN_ATTRS.index(attrs[col]), j) for j, (col, op, _) in enumerate(first)
                    if op in ("==", "IN")]
            at = min(keys)[1] if keys else None
            if at is None:
                self.anywhere.append((attr_id, match_id, tokens))
                continue
            col, op, arg = first[at]
            entry = (attr_id, match_id, [first[:at] + first[at + 1 :], *tokens[1:]])
            for value in arg if op == "IN" else (arg,):
                self.index.setdefault(col, {}).setdefault(value, []).append(entry)
        self._searched: dict[tuple[re.Pattern, int], bool] = {}  # (REGEX, value) -> found

    @classmethod
    def of(cls, ruler: Any) -> AttributeMatches | None:
        """The index of ``ruler``'s patterns, or ``None`` when one of them needs the Matcher."""
        strings = ruler.vocab.strings
        attrs: list[str] = []

        def column(attr: str) -> int:
            if attr not in attrs:
                attrs.append(attr)
            return attrs.index(attr)

        def as_id(attr: str, value: Any) -> int | None:
            """The ``to_array`` value of ``value`` for ``attr``; ``None`` if it is of the wrong kind."""
            flag = attr.startswith("IS_")
            if isinstance(value, bool) != flag or not isinstance(value, str | bool):
                return None
            return int(value) if flag else strings[value]

        patterns = []
        for attr_id, entry in enumerate(ruler.patterns):
            match_id = strings[str(attr_id)]
            for pattern in entry["patterns"]:
                if not pattern:
                    return None
                tokens = []
                for spec in pattern:
                    checks = []
                    for key, value in spec.items():
                        attr = {"TEXT": "ORTH"}.get(str(key).upper(), str(key).upper())
                        if attr not in _TOKEN_ATTRS:
                            return None
                        op, arg = next(iter(value.items())) if isinstance(value, dict) else ("==", value)
                        if isinstance(value, dict) and len(value) != 1:
                            return None
                        if op in ("IN", "NOT_IN") and isinstance(arg, list):
                            ids = [as_id(attr, v) for v in arg]
                            if None in ids:
                                return None
                            checks.append((column(attr), op, frozenset(ids)))
                        elif op == "REGEX" and isinstance(arg, str) and not attr.startswith("IS_"):
                            checks.append((column(attr), op, re.compile(arg)))
                        elif op == "==" and as_id(attr, arg) is not None:
                            checks.append((column(attr), op, as_id(attr, arg)))
                        else:
                            return None
                    tokens.append(checks)
                patterns.append((attr_id, match_id, tokens))
        return cls(ruler, attrs, patterns)

    def _passes(self, checks: list[tuple], columns: list[list[int]], i: int) -> bool:
        for col, op, arg in checks:
            value = columns[col][i]
            if op == "==":
                if value != arg:
                    return False
            elif op == "IN":
                if value not in arg:
                    return False
            elif op == "NOT_IN":
                if value in arg:
                    return False
            else:  # REGEX, searched in the attribute's text as the Matcher does; once per value
                key = (arg, value)
                found = self._searched.get(key)
                if found is None:
                    found = self._searched[key] = bool(arg.search(self.ruler.vocab.strings[value]))
                if not found:
                    return False
        return True

    def __call__(self, doc: Doc) -> list[tuple[int, int, int, int]]:
        if len(self.ruler.attrs) != self.n_patterns:  # patterns added since: the Matcher has them
            return type(self.ruler).match(self.ruler, doc)
        n = len(doc)
        if not n:
            return []
        columns = doc.to_array(self.attrs).T.tolist()
        lookups = [(table, columns[col]) for col, table in self.index.items()]
        passes = self._passes
        matches = []
        for i in range(n):
            tried = [e for table, values in lookups for e in table.get(values[i], ())]
            for attr_id, match_id, tokens in tried + self.anywhere:
                end = i + len(tokens)
                if end <= n and all(not c or passes(c, columns, i + j) for j, c in enumerate(tokens)):
                    matches.append((attr_id, match_id, i, end))
        matches.sort()
        return matches


def sent_records(doc: Doc) -> list[dict]:
    return doc._.get(SENTS_EXT) or []


def aspect_records(doc: Doc) -> list[tuple]:
    return doc._.get(ASPECTS_EXT) or []


def cue_records(doc: Doc) -> list[str | None]:
    return doc._.get(CUES_EXT) or []


def lexicon_records(doc: Doc) -> dict | None:
    return doc._.get(LEX_EXT)


# --- running the pipeline ---------------------------------------------------------


def records(doc: Doc) -> dict:
    """Everything enrich needs from a parsed Doc, as plain (cheaply picklable) data."""
    return {
        "text": doc.text,
        "sents": sent_records(doc),
        "aspects": aspect_records(doc),
        "cues": cue_records(doc),
        "lex": lexicon_records(doc),
    }


#: the pipeline inside a worker process of :func:`parse` (set by the pool's initializer,
#: inherited through fork; never set in the main process)
_worker_nlp: Language | None = None


def _init_worker(pipeline: Language) -> None:
    global _worker_nlp
    _worker_nlp = pipeline
    # the workers are the parallelism: one BLAS thread each (spaCy's matrices go through
    # numpy's OpenBLAS, see models.load_spacy), not one per core in every worker
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


def _parse_chunk(texts: list[str]) -> list[dict]:
    assert _worker_nlp is not None
    return [records(doc) for doc in _worker_nlp.pipe(texts, batch_size=len(texts) or 1)]


@contextlib.contextmanager
def parser(
    pipeline: Language, n_process: int = 1, batch_size: int = 64
) -> Iterator[Callable[[list[str]], Iterator[dict]]]:
    """A function that yields ``records`` of a list of texts, in order, using ``n_process``
    forked worker processes (kept for the whole ``with`` block). With workers, the texts are
    queued for them as soon as the function is called (the records are yielded lazily).

    Workers send back plain records, not Docs: spaCy's own ``n_process`` ships every Doc back
    as bytes, and decoding them (srsly's msgpack looks up its decoders through package entry
    points on every call) cost more than the parsing itself on our 2-core machine.

    Example: ``with parser(nlp, 2) as parse: recs = list(parse(["Great food."]))``
    """
    import multiprocessing as mp

    if n_process <= 1 or "fork" not in mp.get_all_start_methods():

        def parse_here(texts: list[str]) -> Iterator[dict]:
            for doc in pipeline.pipe(texts, batch_size=batch_size):
                yield records(doc)

        yield parse_here
        return

    from vocseg import models

    with models.forking():
        pool = mp.get_context("fork").Pool(n_process, initializer=_init_worker, initargs=(pipeline,))
    with pool:

        def parse_pool(texts: list[str]) -> Iterator[dict]:
            # imap hands the parts to the workers now, not on the first next(): a caller can
            # queue its next page before consuming this one, so the workers never wait for it
            # a small call is shared evenly, so that every worker has a part
            size = max(1, min(batch_size, -(-len(texts) // n_process)))
            parts = [texts[i : i + size] for i in range(0, len(texts), size)]
            results = pool.imap(_parse_chunk, parts, chunksize=1)
            return (rec for recs in results for rec in recs)

        yield parse_pool
