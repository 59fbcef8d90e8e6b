"""spaCy made faster without changing what it finds: numpy's BLAS for thinc's matrices, and
the attribute ruler's matches from vocseg's index instead of spaCy's Matcher."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path

import pytest

from tests.conftest import shared_corpus

pytestmark = pytest.mark.models

CRAFTED = [
    "I ain't gonna wait, let's go! We gotta leave, y'all.",
    "She doesn't know. Ain't nobody got time for that; gimme a break.",
    "Lemme check... The 2nd flight at 10:30 isn't listed ($45.99) :) #fail @united",
    "   Two  spaces\n\nand a new line\tand a tab.",
    "Can't won't shouldn't wouldn't it's he's they're I'd we'll",
]


def _texts() -> list[str]:
    path = shared_corpus("airline-tweets") / "tweets.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        tweets = [r["text"] for r in csv.DictReader(fh)][:1500]
    return CRAFTED + tweets


def _annotations(doc):
    return [(t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_) for t in doc]


def test_the_indexed_matches_set_what_spacys_matcher_sets(models_cfg):
    from vocseg import models
    from vocseg.enrich import nlp as vnlp

    nlp = models.load_spacy(models_cfg, disable=["ner"])
    ruler = nlp.get_pipe("attribute_ruler")
    fast = vnlp.AttributeMatches.of(ruler)
    assert fast is not None, "en_core_web_sm's patterns are all plain token attributes"
    before = [n for n in nlp.pipe_names[: nlp.pipe_names.index("attribute_ruler")]]
    docs = list(nlp.pipe(_texts(), disable=[n for n in nlp.pipe_names if n not in before]))
    n_matches = 0
    for doc in docs:
        theirs, ours = doc.copy(), doc.copy()
        expected = ruler.match(theirs)
        got = fast(ours)
        assert sorted(set(got)) == sorted(set(expected)), doc.text
        n_matches += len(got)
        ruler.set_annotations(theirs, expected)
        ruler.set_annotations(ours, got)
        assert _annotations(ours) == _annotations(theirs), doc.text
    assert n_matches > 10 * len(docs)  # the tag map alone matches nearly every token


def test_add_components_gives_the_ruler_the_index_and_a_pattern_it_cannot_index_keeps_the_matcher(models_cfg):
    from vocseg import models
    from vocseg.enrich import nlp as vnlp

    nlp = vnlp.add_components(models.load_spacy(models_cfg, disable=["ner"]))
    assert isinstance(nlp.get_pipe("attribute_ruler").match, vnlp.AttributeMatches)
    doc = nlp("We ain't gonna wait.")
    assert [t.lemma_ for t in doc][1:4] == ["be", "not", "go"]

    other = models.load_spacy(models_cfg, disable=["ner"])
    ruler = other.get_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "wait", "OP": "+"}]], {"LEMMA": "WAIT"})
    assert vnlp.AttributeMatches.of(ruler) is None
    vnlp.add_components(other)
    assert not isinstance(ruler.match, vnlp.AttributeMatches)
    assert [t.lemma_ for t in other("We wait.")][1] == "WAIT"

    ruler = nlp.get_pipe("attribute_ruler")  # a pattern added after the index was built
    ruler.add([[{"LOWER": "wait"}]], {"LEMMA": "LATER"})
    assert [t.lemma_ for t in nlp("We wait.")][1] == "LATER"


def test_the_pipeline_multiplies_through_numpy_and_parses_as_with_blis(models_cfg):
    import spacy
    from thinc.api import use_ops

    from vocseg import models

    ours = models.load_spacy(models_cfg)
    # the shared token-to-vector network, where most of the products are
    assert not any(node.ops.use_blis for node in ours.get_pipe("tok2vec").model.walk())
    loc = models.spacy_location(models_cfg.spacy)
    with use_ops("numpy", use_blis=True):  # thinc's default
        blis = spacy.load(loc) if isinstance(loc, Path) else importlib.import_module(loc).load()
    assert blis.get_pipe("tok2vec").model.ops.use_blis
    texts = _texts()[:400]
    for a, b in zip(ours.pipe(texts), blis.pipe(texts), strict=True):
        assert [(t.head.i, t.ent_iob_, t.ent_type_) for t in a] == [(t.head.i, t.ent_iob_, t.ent_type_) for t in b]
        assert _annotations(a) == _annotations(b), a.text
