import gc

from crewai.project.utils import cache

from crews.contract_qa.crew import ContractQACrew
from crews.data_qa.crew import DataQACrew
from crews.fact_check.crew import FactCheckCrew
from crews.runtime.llm_factory import build_llm
from crews.runtime.settings import LLMSettings


def _llm():
    return build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_fact_check:respond"))


def test_a_new_crew_never_gets_a_freed_crews_agents():
    stale = 0
    gc.freeze()  # what is loaded already is not scanned again: each collect below takes ms, not seconds
    try:
        for _ in range(50):
            llm = _llm()
            crew = ContractQACrew(llm)
            stale += crew.analyst().llm is not llm
            del crew
            gc.collect()  # frees the crew so CPython can hand its address (its id) to the next one
    finally:
        gc.unfreeze()
    assert stale == 0


def test_memoized_agents_are_dropped_when_the_crew_is_freed():
    for crew_class, method in ((FactCheckCrew, "editor"), (DataQACrew, "analyst"),
                               (ContractQACrew, "reviewer")):
        crew = crew_class(_llm())
        getattr(crew, method)()
        marker = str(("__instance__", id(crew)))
        assert any(marker in key for key in cache._cache)
        del crew
        gc.collect()
        assert not any(marker in key for key in cache._cache)


def test_a_crew_freed_while_the_memo_is_locked_is_evicted_later_instead_of_deadlocking():
    """The garbage collector runs finalizers inside any section, also one holding the memo's lock in the
    same thread (it hung the test suite): the freed crew's entries are dropped by the next crew instead."""
    crew = FactCheckCrew(_llm())
    crew.editor()
    marker = str(("__instance__", id(crew)))
    cache._lock.w_acquire()
    try:
        del crew
        gc.collect()  # the crew's finalizer runs here, in this thread, while the lock is taken
    finally:
        cache._lock.w_release()
    assert any(marker in key for key in cache._cache)
    DataQACrew(_llm())
    assert not any(marker in key for key in cache._cache)


def test_crewai_still_needs_the_memo_workaround():
    """CrewAI keys its ``@agent``/``@task`` memo on ``id(self)`` and never evicts (upstream issue #7338, fix
    proposed in PR #7341). When this test fails, CrewAI evicts by itself: remove ``forget_memoized`` and its
    call in ``YamlCrew.__init__``."""
    from crewai.project.utils import memoize

    class Plain:
        @memoize
        def thing(self) -> object:
            return object()

    plain = Plain()
    plain.thing()
    marker = str(("__instance__", id(plain)))
    del plain
    gc.collect()
    kept = [key for key in cache._cache if marker in key]
    assert kept, "CrewAI's memo now forgets a freed object: the workaround in crews/runtime/agents.py can go"
    for key in kept:
        del cache._cache[key]
