"""Clause search and topic coverage, with the synonym groups of config/synonyms.yaml."""

import re

import yaml

from crews.contract_qa.documents import Clause
from crews.contract_qa.retrieval import SYNONYMS_FILE, ClauseIndex, coverage, terms, topic_terms, widened

CLAUSES = [
    Clause(contract_id="c", number="2.1", clause_id="c:2.1", heading="2. Term",
           text="The Subscription Term commences on 1 March 2025."),
    Clause(contract_id="c", number="4.4", clause_id="c:4.4", heading="4. Fees",
           text="Late payments bear interest at 4% per annum."),
    Clause(contract_id="c", number="9.2", clause_id="c:9.2", heading="9. Exit",
           text="Either party may terminate for convenience on 90 days' notice."),
]


def test_a_synonym_finds_the_clause_that_never_uses_the_question_word():
    (best, *_) = ClauseIndex(CLAUSES).search("What is the kick-off date of the subscription?")
    assert best.clause.clause_id == "c:2.1"
    (best, *_) = ClauseIndex(CLAUSES).search("What surcharge applies to overdue invoices?")
    assert best.clause.clause_id == "c:4.4"


def test_coverage_counts_a_topic_word_found_through_its_group():
    assert coverage("When is the kick-off?", [CLAUSES[0].text]) == 1.0
    # warn ~ notice; stop: no
    assert coverage("How much warning stops the contract?", [CLAUSES[2].text]) == 0.5
    assert coverage("Which insurer covers the goods?", [CLAUSES[2].text]) == 0.0


def test_hyphenated_words_are_read_whole_and_apart():
    assert {"kick", "kickoff"} <= topic_terms("kick-off")
    assert "commenc" in widened(topic_terms("kick-off"))


def test_phrases_of_the_groups_read_as_one_word():
    assert "kickoff" in topic_terms("When does the subscription kick off?")
    assert coverage("Does it roll over by itself?",
                    ["This Agreement renews automatically for one year."]) == 0.5
    assert coverage("When does it run out?", ["The Initial Term expires on 30 June 2030."]) == 1.0


def test_every_synonym_entry_reads_as_one_word():
    groups = yaml.safe_load(SYNONYMS_FILE.read_text())["groups"]
    assert groups and all(len(group) > 1 for group in groups)
    assert all(len(terms(re.sub(r"[\s-]+", "", str(word)))) == 1
               for group in groups for word in group), groups
