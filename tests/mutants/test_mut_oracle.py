"""The differential oracle: equal for the solution and for torch's own implementations, different for
every realistic bug of the corpus and for the bugs the grader used to miss (issue 11); a hanging or
crashing mutant gets a verdict too; verdicts are cached by source and oracle version."""

from __future__ import annotations

import ast

import pytest
import torch
from torch import nn

from autograder.grading.rubric import assignment_ids, load_rubric
from autograder.tasks.mutants.generate import generate, load_solution
from autograder.tasks.mutants.oracle import (
    Verdict,
    VerdictCache,
    explorers,
    judge_all,
    judge_here,
    load_module,
    reference_observations,
)
from autograder.tasks.mutants.oracle.observe import Impl, difference
from tests.submissions.known_wrong import KNOWN_WRONG

MARKS = {
    "01_gradient_descent": pytest.mark.gradient_descent,
    "02_optimizers": pytest.mark.optimizers,
    "03_regularization": pytest.mark.regularization,
}


def judge(assignment: str, source: str, names: tuple[str, ...]) -> Verdict:
    return judge_here(assignment, source, load_rubric(assignment).module, names)


@pytest.mark.parametrize("assignment", [pytest.param(a, marks=MARKS[a]) for a in assignment_ids()])
def test_the_solution_is_equivalent_to_the_reference(assignment):
    solution = load_solution(assignment)
    verdict = judge(assignment, solution.source, tuple(solution.graded))
    assert verdict.status == "equivalent", verdict
    assert verdict.scenarios > 50


class PowerDecayAsLambda(torch.optim.lr_scheduler.LambdaLR):
    """DESIGN's PowerDecayLR written with torch's LambdaLR."""

    def __init__(self, optimizer, power=0.3, last_epoch=-1):
        super().__init__(optimizer, lambda k: (k + 1) ** -power, last_epoch)


def _without_function_use(observation):
    """torch's BatchNorm modules do not call the kit's BatchNormFunction: drop that one fact."""
    if isinstance(observation, dict):
        return {k: _without_function_use(v) for k, v in observation.items() if k != "uses BatchNormFunction"}
    if isinstance(observation, list):
        return [_without_function_use(v) for v in observation]
    return observation


TORCH_IMPLEMENTATIONS = [
    ("02_optimizers", "SGD", torch.optim.SGD),
    ("02_optimizers", "Adagrad", torch.optim.Adagrad),
    ("02_optimizers", "RMSprop", torch.optim.RMSprop),
    ("02_optimizers", "Adam", torch.optim.Adam),
    ("01_gradient_descent", "PowerDecayLR", PowerDecayAsLambda),
    ("03_regularization", "Dropout", nn.Dropout),
    ("03_regularization", "BatchNorm1d", nn.BatchNorm1d),
    ("03_regularization", "BatchNorm2d", nn.BatchNorm2d),
]


@pytest.mark.parametrize(
    ("assignment", "name", "implementation"),
    [pytest.param(a, n, i, id=n, marks=MARKS[a]) for a, n, i in TORCH_IMPLEMENTATIONS],
)
def test_torch_itself_is_equivalent(assignment, name, implementation):
    """The oracle is never stricter than torch: code written exactly as torch writes it is equal."""
    expected = reference_observations(assignment, name)
    stream = explorers(assignment).EXPLORERS[name](Impl(implementation, {}))
    count = 0
    for (scenario, want), (_, got) in zip(expected, stream, strict=True):
        found = difference(_without_function_use(want), _without_function_use(got))
        assert found is None, f"{scenario}: {found}"
        count += 1
    assert count == len(expected) > 30


# Bugs of the corpus that are not behavioural differences (the oracle rightly calls them equal).
# (adagrad_initial_acc_from_defaults was one: torch's own reading, now in known_equivalent.py.)
BEHAVIOURALLY_EQUAL: dict[str, str] = {}


@pytest.mark.parametrize(
    "wrong", [pytest.param(w, id=w.name, marks=MARKS[w.assignment]) for w in KNOWN_WRONG]
)
def test_every_known_wrong_submission_differs(wrong):
    names = tuple(sorted({line.split(".", 1)[0] for line in wrong.fails}))
    verdict = judge(wrong.assignment, wrong.mutated_source(), names)
    if wrong.name in BEHAVIOURALLY_EQUAL:
        assert verdict.status == "equivalent", BEHAVIOURALLY_EQUAL[wrong.name]
    else:
        assert verdict.status == "differs", f"{wrong.name}: {wrong.reason}"
        assert verdict.scenario and verdict.difference


# The realistic bugs the grader used to give full marks (issue 11), written into the solution: each
# replaces ``old`` (once) inside the definition of ``name``.
ISSUE_11_BUGS = [
    ("01_gradient_descent", "minibatches", "lazy ValueError (a generator function)",
     "    return (order[start:start + batch_size]", "    yield from (order[start:start + batch_size]"),
    ("02_optimizers", "SGD", "momentum in the lecture's form h = mu*h + lr*g",
     "p.add_(g, alpha=-lr)", "p.add_(g, alpha=-lr) if mu == 0 else p.sub_(buf)"),
    ("02_optimizers", "SGD", "the first momentum buffer is p.grad itself",
     "buf = g.detach().clone()", "buf = g"),
    ("02_optimizers", "SGD", "weight decay applied to p.grad in place",
     "g = g.add(p, alpha=group[\"weight_decay\"])", "g = g.add_(p, alpha=group[\"weight_decay\"])"),
    ("03_regularization", "BatchNorm1d", "running statistics updated with grad enabled",
     "with torch.no_grad():  # running estimates", "if True:  # running estimates"),
    ("03_regularization", "BatchNorm2d", "momentum=0.0 treated as None (momentum or 1/k)",
     "rho = 1.0 / self.num_batches_tracked.item() if self.momentum is None else self.momentum",
     "rho = self.momentum or 1.0 / self.num_batches_tracked.item()"),
    ("03_regularization", "Dropout", "p=1 returns zeros_like(x) (no gradient)",
     "return x * 0.0", "return torch.zeros_like(x)"),
]  # fmt: skip


def replace_in_definition(source: str, name: str, old: str, new: str) -> str:
    """``source`` with ``old`` replaced by ``new`` inside the top-level definition of ``name``."""
    tree = ast.parse(source)
    node = [n for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef)) and n.name == name][-1]
    lines = source.splitlines(keepends=True)
    before, body, after = (
        lines[: node.lineno - 1],
        lines[node.lineno - 1 : node.end_lineno],
        lines[node.end_lineno :],
    )
    text = "".join(body)
    assert text.count(old) == 1, f"the snippet must occur exactly once in {name}"
    return "".join(before) + text.replace(old, new) + "".join(after)


@pytest.mark.parametrize(
    ("assignment", "name", "bug", "old", "new"),
    [pytest.param(*b, id=b[2], marks=MARKS[b[0]]) for b in ISSUE_11_BUGS],
)
def test_the_bugs_the_grader_used_to_miss_differ(assignment, name, bug, old, new):
    source = replace_in_definition(load_solution(assignment).source, name, old, new)
    verdict = judge(assignment, source, (name,))
    assert verdict.status == "differs", bug


@pytest.mark.optimizers
def test_the_verdict_names_the_first_and_smallest_differing_case():
    source = replace_in_definition(
        load_solution("02_optimizers").source, "SGD", "if lr < 0.0", "if lr <= 0.0"
    )
    verdict = judge("02_optimizers", source, ("SGD",))
    assert verdict.status == "differs" and verdict.name == "SGD"
    assert verdict.scenario == "SGD([p], lr=0.0) raises ValueError exactly when torch does"
    assert verdict.difference == "raised ValueError instead of 'constructed'"


@pytest.mark.slow
@pytest.mark.gradient_descent
def test_a_hanging_or_crashing_mutant_gets_a_verdict_without_stopping_the_others():
    source = load_solution("01_gradient_descent").source
    old = "    if batch_size < 1:"
    hang = replace_in_definition(source, "minibatches", old, "    while True:\n        pass\n" + old)
    crash = replace_in_definition(source, "minibatches", old, "    import os\n    os._exit(3)\n" + old)
    wrong = replace_in_definition(source, "minibatches", old, "    if batch_size < 2:")
    jobs = [(text, ("minibatches",)) for text in (hang, crash, wrong, source)]
    verdicts = judge_all("01_gradient_descent", "gradient_descent", jobs, lanes=1, timeout_s=8)
    assert [v.status for v in verdicts] == ["timeout", "crashed", "differs", "equivalent"]


def test_verdicts_are_cached_by_source_names_and_oracle_version(tmp_path):
    path = tmp_path / "cache.json"
    cache = VerdictCache(path, "v1")
    verdict = Verdict("differs", "SGD", "a scenario", "a difference", 3, 0.5)
    cache.put("source", ("SGD",), verdict)
    cache.save()
    assert VerdictCache(path, "v1").get("source", ("SGD",)) == verdict
    assert VerdictCache(path, "v1").get("source", ("Adam",)) is None
    assert VerdictCache(path, "v1").get("other source", ("SGD",)) is None
    assert VerdictCache(path, "v2").get("source", ("SGD",)) is None
    path.write_text("not json")
    assert VerdictCache(path, "v1").get("source", ("SGD",)) is None


# --- scenarios added for the semantic operators (misreadings of the contract) ----------------------


def _semantic_mutant(assignment: str, label: str, name: str):
    generated = generate(load_solution(assignment), ("semantic",))
    return next(m for m in generated.mutants if m.label == label and m.definition == name)


@pytest.mark.regularization
def test_dropout_storing_the_keep_probability_in_p_differs_on_p():
    """``self.p = 1 - p`` with every use compensated computes the same outputs; the notebook's
    "store it as self.p" (the probability of dropping) tells it apart."""
    mutant = _semantic_mutant("03_regularization", "misread-stored-complement", "Dropout")
    verdict = judge("03_regularization", mutant.source, ("Dropout",))
    assert verdict.status == "differs"
    assert verdict.scenario == "Dropout(0.2).p: the probability of dropping, as given"
    assert verdict.difference == "0.8 instead of 0.2"


@pytest.mark.gradient_descent
def test_zero_grad_after_step_lets_a_held_gradient_reach_the_first_step():
    """With ``zero_grad`` moved after ``step``, the first step of a model that already holds
    gradients uses them: a difference in the steps' gradients, not only in the order of calls."""
    import reference.training

    module = explorers("01_gradient_descent")
    mutant = _semantic_mutant("01_gradient_descent", "misread-zero-grad-late", "fit")
    namespace = load_module(mutant.source, "gradient_descent")
    run = module.STALE_GRAD_RUNS[0]

    def steps(fn, ns):
        events = module._fit_once(fn, ns, run, stale_grads=True)["events"]
        return [e for e in events if e[0] == "step"]

    want = steps(reference.training.fit, vars(reference.training))
    assert difference(want, steps(namespace["fit"], namespace))
    solution = load_module(load_solution("01_gradient_descent").source, "gradient_descent")
    assert difference(want, steps(solution["fit"], solution)) is None


@pytest.mark.optimizers
def test_a_flag_taken_from_the_constructor_instead_of_the_group_differs():
    """``amsgrad`` read from ``self.defaults``: random groups can leave it equal to the constructor's,
    the groups whose every hyper-parameter differs from the constructor's cannot."""
    generated = generate(load_solution("02_optimizers"), ("semantic",))
    mutant = next(
        m
        for m in generated.mutants
        if m.label == "misread-constructor-hyperparameter" and 'self.defaults["amsgrad"]' in m.source
    )
    verdict = judge("02_optimizers", mutant.source, ("Adam",))
    assert verdict.status == "differs"
    assert "one param group each with overrides [{}, {" in verdict.scenario
    assert "'amsgrad': True" in verdict.scenario
