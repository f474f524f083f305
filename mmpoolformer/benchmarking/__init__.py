"""Benchmarking: the alternating timing loop (:mod:`.timing`), peak memory
(:mod:`.memory`), the machine description (:mod:`.machine`), the results
files (:mod:`.results`, schema there), the cases (:mod:`.cases`), running
them (:mod:`.runner`) and rendering their results (:mod:`.render`).
``tools/analysis/benchmark.py`` and ``render_benchmarks.py`` are their
command lines. The cases import the models and libraries when
:mod:`.cases` or :mod:`.runner` is imported, not before."""
