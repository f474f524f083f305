"""The benchmarks' shared timing (``mmpoolformer.testing``)."""
import pytest

from mmpoolformer.testing import alternate, best_gflops, median_ratios


@pytest.mark.parametrize('warm_up', [True, False])
def test_alternate_reverses_the_order_every_other_round(warm_up):
    calls = []
    times = alternate({name: lambda name=name: calls.append(name)
                       for name in 'ab'}, rounds=3, warm_up=warm_up)
    timed = ['a', 'b', 'b', 'a', 'a', 'b']
    assert calls == (['a', 'b'] if warm_up else []) + timed
    assert {name: len(runs) for name, runs in times.items()} == \
        {'a': 3, 'b': 3}


def test_median_ratios_are_per_round():
    times = {'base': [2., 4., 9.], 'fast': [1., 1., 9.]}
    assert median_ratios(times, 'base') == {'base': 1., 'fast': 2.}


def test_best_gflops_counts_the_fastest_run(monkeypatch):
    clock = iter([0., 2., 10., 11., 20., 24.])  # runs of 2, 1 and 4 s
    monkeypatch.setattr('mmpoolformer.testing.time.perf_counter',
                        lambda: next(clock))
    calls = []
    assert best_gflops(lambda: calls.append(1), 5e9, repeats=3) == 5.
    assert len(calls) == 4  # one warm-up
