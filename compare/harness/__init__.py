"""The load comparison behind ``python -m compare run``.

Modules, in the order a run uses them: :mod:`~compare.harness.scenarios` (what is measured),
:mod:`~compare.harness.placement` (CPU pinning), :mod:`~compare.harness.servers` (databases and
server processes), :mod:`~compare.harness.measure` (one point), with
:mod:`~compare.harness.wrk` (closed loop), :mod:`~compare.harness.openloop` (open loop),
:mod:`~compare.harness.procstats` (``/proc`` and ``ss``) and :mod:`~compare.harness.child`
(load generators as child processes); then :mod:`~compare.harness.analysis`,
:mod:`~compare.harness.plots` and :mod:`~compare.harness.report`. :mod:`~compare.harness.runner`
ties them together; :mod:`~compare.harness.naive` is the naive-migration app. The method is
described in ``docs/comparison.md``.
"""
