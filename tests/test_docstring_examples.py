"""The ``Example:`` sections of the docstrings of ganlib's loss, critic, theory and optimiser modules run.

Every example runs with the standard library's :mod:`doctest` in an empty namespace, so each one
imports what it uses and can be pasted as it stands. A module must keep at least as many examples
as it has public functions, so that an example cannot silently disappear.
"""
from __future__ import annotations

import doctest
import importlib
import inspect
import io
import types

import pytest

MODULES = ("ganlib.game.losses", "ganlib.game.registry", "ganlib.game.critics", "ganlib.theory.closed_forms", "ganlib.engine.optim", "ganlib.engine.precision", "ganlib.nets.augment", "ganlib.recipes.presets")
OPTIONFLAGS = doctest.NORMALIZE_WHITESPACE


def docstring_examples(module: types.ModuleType) -> list[doctest.DocTest]:
    """The docstrings of ``module`` (and of its functions, classes and methods) that hold examples."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    return sorted(finder.find(module, globs={}), key=lambda t: t.name)


def run_examples(tests: list[doctest.DocTest]) -> tuple[doctest.TestResults, str]:
    """Run ``tests``; return the runner's counts and its report (empty when every example passed)."""
    out = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    for test in tests:
        runner.run(test, out=out.write)
    return runner.summarize(verbose=False), out.getvalue()


def public_functions(module: types.ModuleType) -> list[str]:
    """The functions in ``module.__all__`` defined in that module (not classes, not constants)."""
    return [name for name in module.__all__
            if inspect.isfunction(inspect.unwrap(obj := getattr(module, name)))
            and inspect.unwrap(obj).__module__ == module.__name__]


@pytest.mark.parametrize("modname", MODULES)
def test_docstring_examples_run(modname):
    module = importlib.import_module(modname)
    tests = docstring_examples(module)
    functions = public_functions(module)
    assert len(tests) >= len(functions), (
        f"{modname}: {len(tests)} docstrings with examples for {len(functions)} public functions")
    results, report = run_examples(tests)
    assert results.attempted > 0
    assert results.failed == 0, f"{modname}: {results.failed} of {results.attempted} examples failed\n{report}"


def test_every_public_function_has_its_own_example():
    """Each public function's own docstring is among those the runner finds (a decorator cannot hide it)."""
    for modname in MODULES:
        module = importlib.import_module(modname)
        with_examples = {t.name.rsplit(".", 1)[-1] for t in docstring_examples(module)}
        assert set(public_functions(module)) <= with_examples, modname


def test_a_wrong_expected_output_is_reported_as_failed():
    """The runner above can fail: an example whose shown output is wrong is counted and reported."""
    fake = types.ModuleType("fake_ganlib_module")
    exec(
        'def log4():\n'
        '    r"""-log 4, the value of Eq. 1 at D = 1/2.\n\n'
        '    Example:\n'
        '        >>> import math\n'
        '        >>> round(-math.log(4), 4)\n'
        '        -1.3862\n'
        '        >>> 1 + 1\n'
        '        2\n'
        '    """\n',
        fake.__dict__,
    )
    fake.__all__ = ["log4"]
    tests = docstring_examples(fake)
    assert [t.name for t in tests] == ["fake_ganlib_module.log4"]
    assert public_functions(fake) == ["log4"]
    results, report = run_examples(tests)
    assert (results.failed, results.attempted) == (1, 3)
    assert "Expected:\n    -1.3862\nGot:\n    -1.3863" in report
