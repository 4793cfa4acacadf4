from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from app.memory import collector_paused


@pytest.fixture(autouse=True)
def _collector_on() -> Iterator[None]:
    gc.enable()
    yield
    gc.enable()


def test_the_collector_is_off_while_paused_and_on_after() -> None:
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_resume_the_collector_when_the_last_ends() -> None:
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)  # the first to begin ends first, as concurrent work may
    assert not gc.isenabled()
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_the_collector_resumes_when_the_work_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("bulk work failed")
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_cycles_made_while_paused_are_collected_after() -> None:
    class Node:
        other: Node

    with collector_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a
        left = weakref.ref(a)
        del a, b
        assert left() is not None  # reference counting alone cannot free a cycle
    gc.collect()
    assert left() is None
