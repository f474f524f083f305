"""mmpoolformer.benchmarking's parts: the alternating timing, the machine
description, the results files and their rendering (synthetic results
written by the writer)."""
import datetime
import json
import os.path as osp

import pytest

from mmpoolformer.benchmarking.machine import (cpu_slug, describe_machine,
                                               matrix_units)
from mmpoolformer.benchmarking.render import render
from mmpoolformer.benchmarking.results import (Row, read_results, results_name,
                                               write_results)
from mmpoolformer.benchmarking.timing import (Spread, alternate, best_gflops,
                                              ratio_spread, time_variants)
from mmpoolformer.precision import int8_units


@pytest.mark.parametrize('warm_up', [True, False])
def test_alternate_reverses_the_order_every_other_round(warm_up):
    calls = []
    times = alternate({name: lambda name=name: calls.append(name)
                       for name in 'ab'}, rounds=3, warm_up=warm_up)
    timed = ['a', 'b', 'b', 'a', 'a', 'b']
    assert calls == (['a', 'b'] if warm_up else []) + timed
    assert {name: len(runs) for name, runs in times.items()} == \
        {'a': 3, 'b': 3}


def test_speedups_are_per_round_ratios_with_their_spread():
    assert ratio_spread([2., 4., 9.], [1., 1., 9.]) == Spread(2., 1., 4.)


def test_time_variants_reports_medians_and_speedups(monkeypatch):
    # Calls in order a b | b a | a b take 4, 1 | 2, 8 | 6, 2 seconds.
    clock = iter([0, 4, 4, 5, 5, 7, 7, 15, 15, 21, 21, 23])
    monkeypatch.setattr('mmpoolformer.benchmarking.timing.time.perf_counter',
                        lambda: next(clock))
    timings = time_variants({'a': lambda: None, 'b': lambda: None}, 3, 'a',
                            warm_up=False)
    assert timings['a'].median_s == 6 and timings['b'].median_s == 2
    assert timings['b'].speedup == Spread(4., 3., 4.)
    assert timings['a'].speedup == Spread(1., 1., 1.)
    monkeypatch.undo()
    assert time_variants({'a': lambda: None}, 1, None)['a'].speedup is None


def test_best_gflops_counts_the_fastest_run(monkeypatch):
    clock = iter([0., 2., 10., 11., 20., 24.])  # runs of 2, 1 and 4 s
    monkeypatch.setattr('mmpoolformer.benchmarking.timing.time.perf_counter',
                        lambda: next(clock))
    calls = []
    assert best_gflops(lambda: calls.append(1), 5e9, repeats=3) == 5.
    assert len(calls) == 4  # one warm-up


def test_matrix_units_are_read_from_the_cpu_flags():
    flags = 'fpu avx512f avx512_bf16 avx512_vnni amx_tile amx_bf16 sse4_2'
    assert matrix_units(flags) == ['AMX', 'AVX-512 BF16', 'AVX-512 VNNI']
    assert matrix_units('fpu avx2 avx_vnni') == ['AVX-VNNI']
    assert matrix_units('fpu avx2') == []


def test_the_machine_description_has_every_field():
    machine = describe_machine(matmul_size=64)
    assert machine['cpu'] and machine['threads'] >= 1
    assert set(machine['versions']) == {'torch', 'onnxruntime', 'openvino',
                                        'nncf'}
    assert machine['versions']['torch']
    assert machine['int8_units'] == int8_units()
    assert machine['commit'] is None or len(machine['commit']) >= 40
    assert machine['matmul']['size'] == 64
    assert machine['matmul']['fp32_gflops'] > 0
    assert machine['matmul']['bf16_gflops'] > 0


MACHINE = dict(cpu='Intel(R) Xeon(R) Platinum 8480+',
               matrix_units=['AMX', 'AVX-512 BF16'], threads=4, cpus=8,
               versions=dict(torch='2.13.0', onnxruntime='1.31.1',
                             openvino=None),
               commit='0123456789abcdef' * 2 + '01234567',
               matmul=dict(size=2048, fp32_gflops=400., bf16_gflops=1500.))


def write(folder, machine, when, speedup, ms, case='backbone'):
    """A synthetic run: ``fast_path`` at ``speedup`` over ``original``."""
    rows = [Row('s12', 'inference', '1x3x512x512', 'original', 'original',
                ms * speedup['median'], dict(median=1., min=1., max=1.), 3,
                peak_mib=300.),
            Row('s12', 'inference', '1x3x512x512', 'fast_path', 'original',
                ms, speedup, 3, peak_mib=200., notes=dict(drift=1e-6))]
    return write_results(str(folder), case, f'tools/analysis/benchmark.py '
                         f'{case} --rounds 3', when, dict(rounds=3), machine,
                         dict(start=0.5, end=1.25), rows)


def test_results_files_are_named_by_setup_and_read_back(tmp_path):
    when = datetime.datetime(2026, 12, 6, 19, 30, 5,
                             tzinfo=datetime.timezone.utc)
    path = write(tmp_path, MACHINE, when,
                 dict(median=1.7, min=1.6, max=1.8), 100.)
    assert osp.basename(path) == results_name(
        'backbone', MACHINE['cpu'], 4, when) == \
        'backbone_intel-r-xeon-r-platinum-8480_4t_20261206-193005.json'
    record = read_results(path)
    assert record['machine'] == MACHINE and record['case'] == 'backbone'
    assert record['date'] == '2026-12-06T19:30:05+00:00'
    assert record['load_average'] == dict(start=0.5, end=1.25)
    assert record['rows'][1]['speedup'] == dict(median=1.7, min=1.6, max=1.8)
    assert cpu_slug('AMD EPYC 9R14 96-Core Processor') == \
        'amd-epyc-9r14-96-core-processor'


def test_a_bad_results_file_is_named_with_its_missing_key(tmp_path):
    path = write(tmp_path, MACHINE, datetime.datetime(2026, 1, 1),
                 dict(median=1., min=1., max=1.), 1.)
    record = json.load(open(path))
    del record['rows'][0]['median_ms']
    json.dump(record, open(path, 'w'))
    with pytest.raises(ValueError, match=r'backbone_.*\.json: "rows"\[0\] '
                       'lacks median_ms'):
        read_results(path)
    with pytest.raises(ValueError, match='backbone_.*lacks median_ms'):
        render(str(tmp_path), str(tmp_path / 'out'))


def test_render_shows_runs_of_one_setup_as_ranges(tmp_path):
    results = tmp_path / 'results'
    for day, median, spread in ((1, 1.63, (1.5, 1.9)), (2, 1.76, (1.7, 1.8))):
        write(results, MACHINE, datetime.datetime(2026, 12, day),
              dict(median=median, min=spread[0], max=spread[1]), 50. + day)
    amd = dict(MACHINE, cpu='AMD EPYC', matrix_units=['AVX-512 BF16'],
               threads=2)
    write(results, amd, datetime.datetime(2026, 12, 3),
          dict(median=1.2, min=1.1, max=1.3), 80.)
    write(results, amd, datetime.datetime(2026, 12, 3),
          dict(median=2.5, min=2.4, max=2.6), 10., case='roi_align')
    page = render(str(results), str(tmp_path / 'out'))
    text = open(page).read()
    assert page == str(tmp_path / 'out' / 'generated.md')
    # Grouped by case, then CPU: each table headed by its setup.
    assert text.index('## backbone') < text.index(
        '### backbone: AMD EPYC, 2 threads') < text.index(
        '### backbone: Intel(R) Xeon(R) Platinum 8480+, 4 threads') < \
        text.index('## roi_align')
    intel = text.split('### backbone: Intel')[1].split('###')[0]
    assert '- matrix units: AMX, AVX-512 BF16' in intel
    assert 'torch 2.13.0, onnxruntime 1.31.1, openvino not installed' in \
        intel
    assert '- runs: 2 (2026-12-01 to 2026-12-02)' in intel
    assert 'fp32 400 GFLOP/s, bf16 1500 GFLOP/s' in intel
    assert 'load average 0.5-1.2' in intel
    assert ('| s12 | inference | 1x3x512x512 | fast_path | original | '
            '51.0-52.0 | 1.63-1.76x | 1.50-1.90x | 3 | 200 |') in intel
    amd_table = text.split('### backbone: AMD EPYC')[1].split('###')[0]
    assert '| fast_path | original | 80.0 | 1.20x | 1.10-1.30x | 3 | 200 |' \
        in amd_table and '- runs: 1 (2026-12-03), ' in amd_table
    plots = sorted(p.name for p in (tmp_path / 'out' / 'plots').iterdir())
    assert plots == ['backbone_amd-epyc_2t.png',
                     'backbone_intel-r-xeon-r-platinum-8480_4t.png',
                     'roi_align_amd-epyc_2t.png']
    assert '](plots/roi_align_amd-epyc_2t.png)' in text
    assert all((tmp_path / 'out' / 'plots' / name).read_bytes()[:4] ==
               b'\x89PNG' for name in plots)


def test_render_without_results_says_how_to_produce_them(tmp_path):
    text = open(render(str(tmp_path / 'none'), str(tmp_path))).read()
    assert 'No results files yet' in text
    assert 'python tools/analysis/benchmark.py' in text
    assert list((tmp_path / 'plots').iterdir()) == []
