"""The semantic operators (misreadings of a contract) on small snippets: each makes exactly the
expected module text, does not fire where its pattern does not apply, and splices exactly (no
rejected proposal); the real solutions get semantic mutants of their own kind; the report tallies
mechanical and semantic mutants apart."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from autograder.tasks.mutants.generate import Mutant, generate, load_solution
from autograder.tasks.mutants.oracle import Verdict
from autograder.tasks.mutants.report import print_report, summarize
from autograder.tasks.mutants.run import MutantResult, Options, RunResult, select

GD = "01_gradient_descent"


def semantic_mutants(tmp_path: Path, source: str) -> list[Mutant]:
    """The semantic mutants of ``source``, read as a submission of 01 (graded names
    ``PowerDecayLR``, ``minibatches``, ``fit``)."""
    path = tmp_path / "gradient_descent.py"
    path.write_text(source)
    generated = generate(load_solution(GD, path), ("semantic",))
    assert generated.rejected == []
    assert all(m.kind == "semantic" and m.label.startswith("misread-") for m in generated.mutants)
    return generated.mutants


def module(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


SCHEDULER = module(
    '''
    from torch.optim.lr_scheduler import LRScheduler


    class PowerDecayLR(LRScheduler):
        def __init__(self, optimizer, power=0.3, last_epoch=-1):
            self.power = power
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            """The lr of every group."""
            k = self.last_epoch
            return [lr / (k + 1) ** self.power for lr in self.base_lrs]
    '''
)

LAYER = module(
    """
    import torch
    from torch import nn


    class PowerDecayLR(nn.Module):
        def __init__(self, c, p=0.5, affine=True, device=None):
            super().__init__()
            self.p = p
            if affine:
                self.weight = nn.Parameter(torch.ones(c, device=device))
                self.register_buffer("shift", torch.zeros(c, device=device))
            else:
                self.register_parameter("weight", None)
                self.register_buffer("shift", None)

        def forward(self, x):
            if self.p == 1.0:
                return x * 0.0
            if not self.training or self.p == 0:
                return x
            mask = torch.rand_like(x) < 1 - self.p
            self.shift.mul_(1 - self.p).add_(x.mean(0), alpha=self.p)
            return x * mask / (1 - self.p) + x.var(0, unbiased=True)

        def extra_repr(self):
            return f"p={self.p}"
    """
)

FUNCTIONS = module(
    """
    import copy

    import torch


    def minibatches(n, batch_size, *, shuffle=True, generator=None):
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n, device="cpu")
        return order.split(batch_size)


    def fit(model, optimizer, scheduler, data, patience):
        best, best_state, wait = 1e9, None, 0
        for epoch in range(10):
            model.train()
            total, seen = 0.0, 0
            for x in data:
                optimizer.zero_grad()
                loss = model(x)
                loss.backward()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                total += loss.item() * len(x)
                seen += len(x)
            model.eval()
            if total < best:
                best, wait = total, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                wait += 1
                if wait >= patience:
                    break
        return best_state, total / seen
    """
)

OPTIMIZER = module(
    """
    import torch
    from torch.optim import Optimizer


    class PowerDecayLR(Optimizer):
        def __init__(self, params, lr=1e-3, momentum=0.0):
            defaults = dict(lr=lr, momentum=momentum)
            super().__init__(params, defaults)

        @torch.no_grad()
        def step(self):
            for group in self.param_groups:
                for p in group["params"]:
                    state = self.state[p]
                    buf = state.get("buf")
                    if buf is None:
                        buf = p.grad.clone()
                        state["buf"] = buf
                    else:
                        buf.mul_(group["momentum"]).add_(p.grad)
                    p.add_(buf, alpha=-group["lr"])
    """
)

BUFFERS = module(
    """
    import torch
    from torch import nn


    class PowerDecayLR(nn.Module):
        def __init__(self, c, momentum=0.1, device=None):
            super().__init__()
            self.momentum = momentum
            self.register_buffer("count", torch.tensor(0, dtype=torch.long, device=device))
            self.register_buffer("avg", torch.full((c,), 0.5, device=device, dtype=None))

        def forward(self, x):
            self.count.add_(1)
            rho = 1.0 / self.count.item() if self.momentum is None else self.momentum
            noise = x.new_ones(x.shape[1]).bernoulli_(0.5)
            if self.training:
                self.avg.lerp_(x.mean(0), rho)
            return x * noise + torch.zeros_like(x, memory_format=torch.preserve_format)
    """
)


# (source, label, [(old, new), ...]): the mutant is ``source`` with each ``old`` replaced (once) by ``new``.
CASES = [
    (FUNCTIONS, "misread-counter-not-reset", [("best, wait = total, 0", "best = total")]),
    (
        FUNCTIONS.replace("best, wait = total, 0\n", "best = total\n            wait = 0\n"),
        "misread-counter-not-reset",
        [("best = total\n            wait = 0\n", "best = total\n")],
    ),
    (
        FUNCTIONS,
        "misread-counter-init-once",
        [
            ("        total, seen = 0.0, 0\n", ""),
            ("    for epoch in range(10):\n", "    total, seen = 0.0, 0\n    for epoch in range(10):\n"),
        ],
    ),
    (
        SCHEDULER,
        "misread-own-counter",
        [
            ("        self.power = power\n", "        self._calls = -1\n        self.power = power\n"),
            ("        k = self.last_epoch\n", "        self._calls += 1\n        k = self._calls\n"),
        ],
    ),
    (
        SCHEDULER,
        "misread-module-counter",
        [
            ("\n\n\nclass PowerDecayLR", "\n\n\n_calls = -1\n\n\nclass PowerDecayLR"),
            (
                "        k = self.last_epoch\n",
                "        global _calls\n        _calls += 1\n        k = _calls\n",
            ),
        ],
    ),
    (
        OPTIMIZER,
        "misread-state-outside",
        [
            (
                "super().__init__(params, defaults)\n",
                "super().__init__(params, defaults)\n        self._param_state = {}\n",
            ),
            ("state = self.state[p]", "state = self._param_state.setdefault(p, {})"),
        ],
    ),
    (
        OPTIMIZER,
        "misread-constructor-hyperparameter",
        [('mul_(group["momentum"])', 'mul_(self.defaults["momentum"])')],
    ),
    (OPTIMIZER, "misread-constructor-hyperparameter", [('alpha=-group["lr"]', 'alpha=-self.defaults["lr"]')]),
    (OPTIMIZER, "misread-lazy-init-zeros", [("buf = p.grad.clone()", "buf = torch.zeros_like(p)")]),
    (LAYER, "misread-fresh-rng", [("torch.rand_like(x)", "torch.rand_like(x, generator=torch.Generator())")]),
    (
        FUNCTIONS,
        "misread-fresh-rng",
        [("generator=generator)", "generator=generator if generator is not None else torch.Generator())")],
    ),
    (
        FUNCTIONS,
        "misread-mode-set-once",
        [
            ("        model.train()\n", ""),
            ("    for epoch in range(10):\n", "    model.train()\n    for epoch in range(10):\n"),
        ],
    ),
    (
        LAYER,
        "misread-private-rng",
        [
            (
                "super().__init__()\n",
                "super().__init__()\n        self._rng = torch.Generator().manual_seed(0)\n",
            ),
            ("torch.rand_like(x)", "torch.rand_like(x, generator=self._rng)"),
        ],
    ),
    (
        FUNCTIONS,
        "misread-private-rng",
        [
            (
                "def minibatches(",
                "_rng = torch.Generator().manual_seed(0)\n\n\ndef minibatches(",
            ),
            ("generator=generator)", "generator=generator if generator is not None else _rng)"),
        ],
    ),
    (
        BUFFERS,
        "misread-private-rng",
        [
            (
                "super().__init__()\n",
                "super().__init__()\n        self._rng = torch.Generator().manual_seed(0)\n",
            ),
            (".bernoulli_(0.5)", ".bernoulli_(0.5, generator=self._rng)"),
        ],
    ),
    (LAYER, "misread-no-device", [("torch.ones(c, device=device)", "torch.ones(c)")]),
    (LAYER, "misread-no-device", [("torch.rand_like(x)", "torch.rand(x.shape)")]),
    (FUNCTIONS, "misread-no-device", [('torch.arange(n, device="cpu")', "torch.arange(n)")]),
    (BUFFERS, "misread-no-device", [("torch.tensor(0, dtype=torch.long, device=device)", "torch.tensor(0)")]),
    (
        BUFFERS,
        "misread-no-device",
        [("torch.full((c,), 0.5, device=device, dtype=None)", "torch.full((c,), 0.5)")],
    ),
    (BUFFERS, "misread-no-device", [("x.new_ones(x.shape[1])", "torch.ones(x.shape[1])")]),
    (
        BUFFERS,
        "misread-no-device",
        [("torch.zeros_like(x, memory_format=torch.preserve_format)", "torch.zeros(x.shape)")],
    ),
    (LAYER, "misread-edge-constant-cpu", [("return x * 0.0", "return torch.zeros(x.shape)")]),
    (LAYER, "misread-edge-constant-detached", [("return x * 0.0", "return torch.zeros_like(x)")]),
    (
        LAYER,
        "misread-none-as-constant",
        [('self.register_parameter("weight", None)', "self.weight = torch.ones(c)")],
    ),
    (
        LAYER,
        "misread-none-as-constant",
        [('self.register_buffer("shift", None)', "self.shift = torch.zeros(c)")],
    ),
    (
        LAYER,
        "misread-stored-complement",
        [
            ("self.p = p", "self.p = 1 - p"),
            ("if self.p == 1.0:", "if (1 - self.p) == 1.0:"),
            ("or self.p == 0:", "or (1 - self.p) == 0:"),
            ("< 1 - self.p", "< 1 - (1 - self.p)"),
            (
                "mul_(1 - self.p).add_(x.mean(0), alpha=self.p)",
                "mul_(1 - (1 - self.p)).add_(x.mean(0), alpha=(1 - self.p))",
            ),
            ("mask / (1 - self.p)", "mask / (1 - (1 - self.p))"),
            ('f"p={self.p}"', 'f"p={(1 - self.p)}"'),
        ],
    ),
    (
        FUNCTIONS,
        "misread-zero-grad-late",
        [
            ("            optimizer.zero_grad()\n", ""),
            ("optimizer.step()\n", "optimizer.step()\n            optimizer.zero_grad()\n"),
        ],
    ),
    (
        FUNCTIONS,
        "misread-unweighted-mean",
        [("total += loss.item() * len(x)", "total += loss.item()"), ("seen += len(x)", "seen += 1")],
    ),
    (
        FUNCTIONS,
        "misread-shallow-copy",
        [("copy.deepcopy(model.state_dict())", "copy.copy(model.state_dict())")],
    ),
    (
        FUNCTIONS,
        "misread-once-per-loop",
        [
            ("            if scheduler is not None:\n                scheduler.step()\n", ""),
            (
                "            seen += len(x)\n",
                "            seen += len(x)\n"
                "        if scheduler is not None:\n"
                "            scheduler.step()\n",
            ),
        ],
    ),
    (LAYER, "misread-mode-ignored", [("if not self.training or self.p == 0:", "if self.p == 0:")]),
    (BUFFERS, "misread-mode-ignored", [("if self.training:", "if True:")]),
    (
        LAYER,
        "misread-ema-swapped",
        [
            (
                "mul_(1 - self.p).add_(x.mean(0), alpha=self.p)",
                "mul_(self.p).add_(x.mean(0), alpha=1 - self.p)",
            )
        ],
    ),
    (
        BUFFERS,
        "misread-none-ignored",
        [
            (
                "rho = 1.0 / self.count.item() if self.momentum is None else self.momentum",
                "rho = self.momentum",
            )
        ],
    ),
    (LAYER, "misread-variance-estimator", [("x.var(0, unbiased=True)", "x.var(0, unbiased=False)")]),
    (
        LAYER.replace("x.var(0, unbiased=True)", "x.std(0)"),
        "misread-variance-estimator",
        [("x.std(0)", "x.std(0, unbiased=False)")],
    ),
]


def _expected(source: str, changes: list[tuple[str, str]]) -> str:
    for old, new in changes:
        assert source.count(old) == 1, f"{old!r} must occur exactly once"
        source = source.replace(old, new)
    return source


@pytest.mark.parametrize(
    ("source", "label", "changes"), [pytest.param(*c, id=f"{c[1]}-{i}") for i, c in enumerate(CASES)]
)
def test_semantic_operator_makes_exactly_the_expected_module(tmp_path, source, label, changes):
    mutants = [m for m in semantic_mutants(tmp_path, source) if m.label == label]
    want = _expected(source, changes)
    assert want in [m.source for m in mutants], (
        f"no {label} mutant gives the expected text among {len(mutants)}"
    )


# (label, source): the operator's pattern does not apply, so it makes no mutant.
SUPER = "super().__init__(params, defaults)"
GIVEN_GENERATOR = "torch.rand_like(x, generator=torch.Generator())"
NOT_APPLICABLE = [
    # a reset outside any branch; a zero nobody increments; the only binding of the counter
    ("misread-counter-not-reset", FUNCTIONS.replace("best, wait = total, 0\n", "best = total\n")),
    ("misread-counter-not-reset", module(
        """
        def fit(model):
            flag = 1
            if model:
                flag = 0
            return flag
        """
    )),
    ("misread-counter-not-reset", module(
        """
        def fit(model):
            for x in model:
                if x:
                    n = 0
                n += 1
            return n
        """
    )),
    # already initialized once, before the loop
    ("misread-counter-init-once", module(
        """
        def fit(data):
            total = 0.0
            for epoch in range(3):
                for x in data:
                    total += x
            return total
        """
    )),
    # no __init__; a method that does not read last_epoch; a class that keeps last_epoch itself
    ("misread-own-counter", SCHEDULER.replace(
        "    def __init__(self, optimizer, power=0.3, last_epoch=-1):\n"
        "        self.power = power\n        super().__init__(optimizer, last_epoch)\n\n", "")),
    ("misread-own-counter", SCHEDULER.replace("k = self.last_epoch", "k = 0")),
    ("misread-own-counter", SCHEDULER.replace("        self.power = power\n",
                                              "        self.power = power\n        self.last_epoch = -1\n")),
    # a class that keeps ``state`` itself; no base constructor called
    ("misread-state-outside", OPTIMIZER.replace(SUPER, SUPER + "\n        self.state = {}")),
    ("misread-state-outside", OPTIMIZER.replace(SUPER, "self.param_groups = []")),
    # only keys that are not hyper-parameters of the defaults
    ("misread-constructor-hyperparameter", OPTIMIZER.replace("dict(lr=lr, momentum=momentum)", "dict(e=1)")),
    # a state already created from zeros; a None test of something else
    ("misread-lazy-init-zeros", OPTIMIZER.replace("buf = p.grad.clone()", "buf = torch.zeros_like(p)")),
    ("misread-lazy-init-zeros", OPTIMIZER.replace("if buf is None:", "if p.grad is None:")),
    # train() without a later eval() in the same body
    ("misread-mode-set-once", FUNCTIONS.replace("        model.eval()\n", "")),
    # a generator given by the caller (not a parameter that may be None); no RNG at all
    ("misread-private-rng", LAYER.replace("torch.rand_like(x)", GIVEN_GENERATOR)),
    ("misread-private-rng", FUNCTIONS.replace("torch.randperm(n, generator=generator)", "torch.arange(n)")),
    ("misread-fresh-rng", LAYER.replace("torch.rand_like(x)", GIVEN_GENERATOR)),
    # a factory without placement keywords, not a *_like / new_* call
    ("misread-no-device", FUNCTIONS.replace('torch.arange(n, device="cpu")', "torch.arange(n)")),
    # not an edge-value test; an edge branch returning the input itself
    ("misread-edge-constant-cpu", LAYER.replace("if self.p == 1.0:", "if self.p > 0.9:")),
    ("misread-edge-constant-cpu", LAYER.replace("return x * 0.0", "return x")),
    # a None registration without a tensor in the other branch
    ("misread-none-as-constant", LAYER.replace(
        '            self.weight = nn.Parameter(torch.ones(c, device=device))\n', '            pass\n')
        .replace('            self.register_buffer("shift", None)\n', "")
        .replace('            self.register_buffer("shift", torch.zeros(c, device=device))\n', "")),
    # a default outside (0, 1); a parameter that may be None; an attribute assigned twice
    ("misread-stored-complement", LAYER.replace("p=0.5", "p=2.0")),
    ("misread-stored-complement", BUFFERS),
    ("misread-stored-complement", LAYER.replace("self.p = p\n", "self.p = p\n        self.p = p\n")),
    # a step of another object; no step after zero_grad
    ("misread-zero-grad-late", FUNCTIONS.replace("optimizer.zero_grad()", "model.zero_grad()")),
    ("misread-zero-grad-late", FUNCTIONS.replace("            optimizer.step()\n", "")),
    # a weighted sum without its weight total
    ("misread-unweighted-mean", FUNCTIONS.replace("seen += len(x)", "seen += 1")),
    ("misread-shallow-copy", FUNCTIONS.replace("copy.deepcopy(", "copy.copy(")),
    # one stepping object only
    ("misread-once-per-loop", FUNCTIONS.replace("            optimizer.step()\n", "")),
    ("misread-mode-ignored", LAYER.replace("not self.training or ", "not self.trainable or ")),
    # ``1 - r`` without ``r`` beside it
    ("misread-ema-swapped", LAYER.replace("alpha=self.p", "alpha=0.5")),
    ("misread-none-ignored", BUFFERS.replace("self.momentum is None", "self.momentum == 0")),
    # a positional estimator argument; numpy's var
    ("misread-variance-estimator", LAYER.replace("x.var(0, unbiased=True)", "x.var(0, True)")),
    ("misread-variance-estimator", LAYER.replace("x.var(0, unbiased=True)", "np.var(x)")),
]  # fmt: skip


@pytest.mark.parametrize(
    ("label", "source"), [pytest.param(*c, id=f"{c[0]}-{i}") for i, c in enumerate(NOT_APPLICABLE)]
)
def test_semantic_operator_does_not_fire_where_its_pattern_does_not_apply(tmp_path, label, source):
    mutants = semantic_mutants(tmp_path, source)
    assert [m.id for m in mutants if m.label == label] == []


def test_semantic_ids_are_stable_and_the_mechanical_ones_unchanged(tmp_path):
    path = tmp_path / "gradient_descent.py"
    path.write_text(FUNCTIONS)
    solution = load_solution(GD, path)
    both = generate(solution)
    mechanical = generate(solution, ("mechanical",))
    assert [m.id for m in both.mutants if m.kind == "mechanical"] == [m.id for m in mechanical.mutants]
    semantic = [m.id for m in both.mutants if m.kind == "semantic"]
    assert semantic == [m.id for m in generate(solution, ("semantic",)).mutants]
    assert "fit:L27:misread-counter-not-reset#1" in semantic
    assert "minibatches:L7:misread-private-rng#1" in semantic
    # A semantic mutant may repeat a mechanical text (dropping device= is also kwarg-drop-device): it
    # counts in each kind's tally.
    texts = {m.source for m in both.mutants if m.kind == "mechanical"}
    assert any(m.source in texts for m in both.mutants if m.kind == "semantic")


@pytest.mark.parametrize(
    ("assignment", "labels"),
    [
        (
            "01_gradient_descent",
            {"misread-counter-not-reset", "misread-counter-init-once", "misread-own-counter",
             "misread-module-counter", "misread-private-rng", "misread-fresh-rng", "misread-zero-grad-late",
             "misread-unweighted-mean", "misread-shallow-copy", "misread-once-per-loop",
             "misread-mode-set-once"},
        ),
        (
            "02_optimizers",
            {"misread-no-device", "misread-ema-swapped", "misread-state-outside",
             "misread-constructor-hyperparameter", "misread-lazy-init-zeros"},
        ),
        (
            "03_regularization",
            {"misread-private-rng", "misread-fresh-rng", "misread-no-device", "misread-edge-constant-cpu",
             "misread-edge-constant-detached", "misread-none-as-constant", "misread-stored-complement",
             "misread-mode-ignored", "misread-ema-swapped", "misread-none-ignored",
             "misread-variance-estimator"},
        ),
    ],
)  # fmt: skip
def test_the_solutions_get_the_misreadings_their_contracts_invite(assignment, labels):
    generated = generate(load_solution(assignment), ("semantic",))
    assert generated.rejected == []
    assert labels <= {m.label for m in generated.mutants}


def _fake(mutant_id: str, kind: str, status: str, lost: dict) -> MutantResult:
    owner = mutant_id.split(":", 1)[0]
    label = mutant_id.split(":")[2].split("#")[0]
    mutant = Mutant(mutant_id, owner, (owner,), label, label, 1, "cell 1, line 1", f"# {mutant_id}\n", kind)
    return MutantResult(
        mutant, Verdict(status, owner, f"scenario of {label}", "a difference"), graded=True, lost=lost
    )


def test_the_report_tallies_mechanical_and_semantic_mutants_apart():
    results = [
        _fake("fit:L1:const-0->1#1", "mechanical", "differs", {"fit.training_loop": 1.0}),
        _fake("fit:L2:cmp-Lt->LtE#1", "mechanical", "differs", {"fit.early_stopping": 1.0}),
        _fake("fit:L3:misread-counter-not-reset#1", "semantic", "differs", {}),
        _fake("fit:L4:misread-zero-grad-late#1", "semantic", "differs", {"fit.training_loop": 2.0}),
        _fake("PowerDecayLR:L5:misread-own-counter#1", "semantic", "differs", {}),
    ]
    timing = {"total_s": 1, "oracle_s": 0, "grade_s": 1, "cpu_s": 1, "graded_cached": 0, "oracle_cached": 0,
              "graded_submissions": 5}  # fmt: skip
    result = RunResult(load_solution(GD), results, [], 0, {"baseline-all": []}, timing, {}, Options(GD))
    s = summarize(result)
    mechanical, semantic = s["kinds"]["mechanical"], s["kinds"]["semantic"]
    assert (mechanical["non_equivalent"], mechanical["killed"], mechanical["kill_rate"]) == (2, 2, 1.0)
    assert (semantic["non_equivalent"], semantic["killed"], semantic["survived"]) == (3, 1, 2)
    assert (
        semantic["by_name"]["fit"]["kill_rate"] == 0.5
        and semantic["by_name"]["PowerDecayLR"]["kill_rate"] == 0
    )
    assert mechanical["by_name"]["fit"]["kill_rate"] == 1.0
    assert semantic["by_line"]["fit.training_loop"]["kills"] == 1
    assert mechanical["by_line"]["fit.early_stopping"]["kills"] == 1
    assert semantic["by_line"]["fit.early_stopping"]["kills"] == 0
    assert set(semantic["by_family"]) == {
        "misread-counter-not-reset",
        "misread-zero-grad-late",
        "misread-own-counter",
    }
    assert s["killed"] == 3 and s["non_equivalent"] == 5  # the overall numbers count both kinds

    console = Console(record=True, width=400)
    print_report(result, console)
    text = console.export_text()
    for kind in ("mechanical", "semantic"):
        for table in ("killed per rubric line", "kill rate per graded name"):
            assert f"{kind} mutants: {table}" in text
    assert "semantic mutants: kill rate per operator" in text
    assert "mechanical mutants: kill rate per operator" not in text
    survivors = text.split("2 surviving non-equivalent semantic mutants", 1)[1]
    assert (
        "fit:L3:misread-counter-not-reset#1" in survivors
        and "PowerDecayLR:L5:misread-own-counter#1" in survivors
    )
    assert "oracle: differs in fit: scenario of misread-counter-not-reset" in survivors
    assert "+# fit:L3:misread-counter-not-reset#1" in survivors  # the diff
    assert "surviving non-equivalent mechanical mutants" not in text
    assert "mechanical: 2/2 non-equivalent mutants killed (100.0%)" in text
    assert "semantic: 1/3 non-equivalent mutants killed (33.3%), 2 survived" in text

    kinds = [r.mutant for r in results]
    assert {m.kind for m in select(kinds, Options(GD, kind="semantic"))} == {"semantic"}
    assert len(select(kinds, Options(GD, kind="mechanical"))) == 2
    assert len(select(kinds, Options(GD))) == 5
