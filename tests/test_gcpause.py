from __future__ import annotations

import gc

import pytest

from batchpay.gcpause import gc_paused, paused_gc


def test_the_collector_is_paused_inside_and_restored_after_nesting() -> None:
    assert gc.isenabled()

    @gc_paused
    def inner() -> bool:
        return gc.isenabled()

    with paused_gc():
        assert not gc.isenabled()
        assert inner() is False
        assert not gc.isenabled()  # the inner stage did not switch it back on
    assert gc.isenabled()


def test_restored_when_the_stage_raises() -> None:
    @gc_paused
    def broken() -> None:
        raise RuntimeError("stage failed")

    with pytest.raises(RuntimeError):
        broken()
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
