"""The acta evaluation (``make eval``): cases, deterministic checks, flawed variants, models.

:mod:`~voxlocal.evaluation.cases` reads ``eval/cases/`` (its files through
:mod:`~voxlocal.evaluation.casefiles`);
:mod:`~voxlocal.evaluation.checks` scores an acta (facts found, facts invented,
format rules); :mod:`~voxlocal.evaluation.flaws` writes flawed copies of each
reference acta the checks must catch (those of this meeting's details and of
the running text in :mod:`~voxlocal.evaluation.meeting_flaws`);
:mod:`~voxlocal.evaluation.models` runs the real model through the product's
own generation;
:mod:`~voxlocal.evaluation.runner` is the command and
:mod:`~voxlocal.evaluation.report` its tables and eval/RESULTS.md.
"""
