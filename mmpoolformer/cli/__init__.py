"""The tools' shared command-line code: common flags and run set-up
(:mod:`.run_setup`), what a test run writes (:mod:`.test_outputs`), CPU
distributed runs, the display check of ``--show``, image listing and the
model zoo's figures."""
