"""The submission policy (autograder/policy/), RestrictedPython's habit: a table of attack snippets,
each of which must be caught with the right status, and a table of honest snippets and whole honest
files (every correct submission, the solution notebooks as a naive .py export leaves them, torch's own
optimizer sources as a student would paste them) that must pass untouched."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
import torch

from autograder import policy
from autograder.grading.rubric import assignment_ids, load_rubric
from tests.submissions.known_equivalent import KNOWN_EQUIVALENT
from tests.submissions.known_wrong import KNOWN_WRONG

ROOT = Path(__file__).resolve().parents[2]
SUBMISSIONS = ROOT / "tests/submissions"
HEAD = ("import torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
        "from torch.optim import Optimizer\n")


def verdict(src: str, name: str) -> tuple[str, str]:
    """(status, text) the grader gives graded name ``name`` for ``src``; ("ok", "") when none."""
    report = policy.check_source(HEAD + src)
    found = policy.verdicts(report, [name]).get(name)
    if not found:
        return "ok", ""
    status, reason, violations = found
    return status, reason + " | " + " | ".join(f"{v.what}: {v.code}" for v in violations)


def step(body: str) -> str:
    """A graded SGD whose step runs ``body`` (indented for the method)."""
    lines = "\n".join("        " + line for line in body.splitlines())
    return f"class SGD(Optimizer):\n    def step(self, closure=None):\n{lines}\n"


# (id, source, graded name, status, a phrase the verdict names)
ATTACKS = [
    # --- introspection doors -------------------------------------------------------------------------
    ("module __dict__", step("return torch.optim.__dict__['S' + 'GD']"), "SGD", "review", "__dict__"),
    ("__wrapped__", step("return F.relu.__wrapped__"), "SGD", "review", "__wrapped__"),
    ("__globals__", step("return Optimizer.zero_grad.__globals__['torch']"), "SGD", "review", "__globals__"),
    ("__code__", step("return (lambda: 0).__code__"), "SGD", "review", "__code__"),
    ("__closure__", step("return self.step.__closure__[0].cell_contents"), "SGD", "review", "__closure__"),
    ("__subclasses__", step("return Optimizer.__subclasses__()"), "SGD", "review", "__subclasses__"),
    ("__mro__", step("return type(self).__mro__[1]"), "SGD", "review", "__mro__"),
    ("__bases__", step("return SGD.__bases__"), "SGD", "review", "__bases__"),
    ("__base__ chain", step("return ().__class__.__base__"), "SGD", "review", "__base__"),
    ("__self__", step("return torch.zeros.__self__"), "SGD", "review", "__self__"),
    ("__func__", step("return self.step.__func__"), "SGD", "review", "__func__"),
    ("__getattribute__", step("return object.__getattribute__(torch, 'optim')"), "SGD", "review",
     "__getattribute__"),
    ("__reduce_ex__", step("return self.__reduce_ex__(2)"), "SGD", "review", "__reduce_ex__"),
    ("__builtins__", step("return __builtins__"), "SGD", "review", "__builtins__"),
    ("__import__", step("return __import__('importlib')"), "SGD", "review", "__import__"),
    ("__loader__", step("return __loader__"), "SGD", "review", "__loader__"),
    ("__traceback__ frame", step("try:\n    1 / 0\nexcept Exception as e:\n    return e.__traceback__"),
     "SGD", "review", "__traceback__"),
    ("generator frame", step("g = (x for x in [])\nreturn g.gi_frame.f_back.f_globals"), "SGD", "review",
     "gi_frame"),
    ("frame attribute", step("return self.frame.f_globals"), "SGD", "review", "f_globals"),
    ("getattr of a dunder", step("return getattr(torch.optim, '__dict__')"), "SGD", "review", "__dict__"),
    # --- dynamic names and code ----------------------------------------------------------------------
    ("computed getattr", step("return getattr(torch.optim, self.name)"), "SGD", "review", "computed"),
    ("getattr of joined constants", step("return getattr(torch.optim, 'S' + 'GD')"), "SGD", "review",
     "torch.optim.SGD"),
    ("getattr over a loop of constants",
     step("for n in ('SGD', 'Adam'):\n    return getattr(torch.optim, n)"), "SGD", "review", "torch.optim"),
    ("getattr with a parameter", "def get(name):\n    return getattr(torch, name)\n" + step("get('x')"),
     "SGD", "review", "computed"),
    ("getattr passed around",
     "import functools\n" + step("return functools.reduce(getattr, ['optim'], torch)"),
     "SGD", "review", "passes `getattr`"),
    ("computed setattr", step("setattr(torch, self.name, None)"), "SGD", "review", "computed"),
    ("setattr of joined constants", step("setattr(torch, 'all' + 'close', None)"), "SGD", "review",
     "monkeypatching"),
    ("hasattr computed", step("return hasattr(torch, 'x' * 2)"), "SGD", "review", "computed"),
    ("a dunder assembled on the student's object", step("return getattr(self, '__cl' + 'ass__' * self.k)"),
     "SGD", "review", "computed"),
    *[(f"builtin {b}", step(f"return {b}('1')"), "SGD", "review", f"`{b}`")
      for b in ("eval", "exec", "compile", "globals", "vars", "locals", "open", "breakpoint", "input")],
    ("eval kept in a default", "def f(eval=eval):\n    return eval('1')\n" + step("f()"), "SGD", "review",
     "`eval`"),
    ("eval through a comprehension", step("return [e('1') for eval in [eval] for e in [eval]]"), "SGD",
     "review", "`eval`"),
    ("typing evaluates strings", "import typing\n" + step("return typing.get_type_hints(self.step)"),
     "SGD", "review", "typing.get_type_hints"),
    ("operator.attrgetter", "import operator\n" + step("return operator.attrgetter('optim')(torch)"),
     "SGD", "review", "operator.attrgetter"),
    ("singledispatch",
     "import functools\n@functools.singledispatch\ndef f(x):\n    return x\n" + step("f(1)"),
     "SGD", "review", "singledispatch"),
    # --- imports -------------------------------------------------------------------------------------
    *[(f"import {m}", f"import {m}\n" + step("pass"), "SGD", "review", f"imports `{m}`")
      for m in ("sys", "os", "importlib", "ctypes", "gc", "inspect", "pickle", "marshal", "builtins",
                "subprocess", "socket", "threading", "multiprocessing", "signal", "types", "code",
                "pathlib", "io", "shutil", "os.path", "concurrent.futures", "sklearn.linear_model")],
    ("from os import", "from os import path\n" + step("pass"), "SGD", "review", "imports `os`"),
    ("import inside step", step("import sys\nreturn sys.modules"), "SGD", "review", "imports `sys`"),
    ("star import", "from torch.optim import *\n" + step("pass"), "SGD", "review", "import *"),
    ("relative import", "from . import helpers\n" + step("pass"), "SGD", "review", "relative import"),
    ("module re-exported by torch", step("return torch.sys.modules"), "SGD", "review", "`sys`"),
    ("torch re-exported by functional", step("return F.torch.optim"), "SGD", "review", "`torch`"),
    ("numpy's ctypes", "import numpy as np\n" + step("return np.ctypeslib"), "SGD", "review",
     "ctypeslib"),
    # --- torch internals, dispatcher and global state --------------------------------------------------
    ("torch._C", step("return torch._C._nn"), "SGD", "review", "torch._C"),
    ("torch._dynamo", step("return torch._dynamo"), "SGD", "review", "private"),
    ("python dispatch internals", "from torch.utils import _python_dispatch\n" + step("pass"), "SGD",
     "review", "private"),
    ("torch.ops", step("return torch.ops.aten.add"), "SGD", "review", "torch.ops"),
    *[(f"namespace {n}", step(f"return {n}"), "SGD", "review", n)
      for n in ("torch.overrides", "torch.library.Library", "torch.fx.symbolic_trace", "torch.jit.script",
                "torch.hub.load", "torch.load", "torch.save", "torch.serialization", "torch.multiprocessing",
                "torch.distributed", "torch.compile", "torch.utils.cpp_extension.load_inline",
                "torch.autograd.graph.saved_tensors_hooks")],
    ("global module hook", step("torch.nn.modules.module.register_module_forward_hook(print)"), "SGD",
     "review", "register_module_"),
    ("global optimizer hook", step("torch.optim.optimizer.register_optimizer_step_pre_hook(print)"), "SGD",
     "review", "register_optimizer_"),
    # --- monkeypatching ------------------------------------------------------------------------------
    ("patch Tensor.clone", "torch.Tensor.clone = lambda self: self\n" + step("pass"), "SGD", "review",
     "monkeypatching"),
    ("patch F.dropout", step("F.dropout = lambda x, *a, **k: x"), "SGD", "review", "monkeypatching"),
    ("patch Optimizer.step", "Optimizer.step = lambda self, closure=None: None\n" + step("pass"), "SGD",
     "review", "monkeypatching"),
    ("patch through setattr", step("setattr(torch, 'allclose', lambda *a, **k: True)"), "SGD", "review",
     "monkeypatching"),
    ("delete a torch name", step("del torch.equal"), "SGD", "review", "monkeypatching"),
    ("patch a dunder", "torch.Tensor.__eq__ = lambda s, o: True\n" + step("pass"), "SGD", "review",
     "monkeypatching"),
    # --- delegation ----------------------------------------------------------------------------------
    ("subclass torch's SGD", "class SGD(torch.optim.SGD):\n    pass\n", "SGD", "review",
     "torch.optim.SGD"),
    ("import the graded name", "from torch.optim import SGD\n", "SGD", "review", "torch.optim.SGD"),
    ("assign the graded name", "SGD = torch.optim.SGD\n", "SGD", "review", "torch.optim.SGD"),
    ("functional form through a helper", "def _go(*a):\n    torch.optim.sgd.sgd(*a)\n" + step("_go()"), "SGD",
     "review", "torch.optim.sgd"),
    ("constant getattr", step("return getattr(torch.optim, 'SGD')"), "SGD", "review", "torch.optim.SGD"),
    ("super of torch's class", step("return super(torch.optim.SGD, self)"), "SGD", "review",
     "torch.optim.SGD"),
    ("class attribute", "class SGD(Optimizer):\n    step = torch.optim.SGD.step\n", "SGD", "review",
     "torch.optim.SGD"),
    ("patched after definition", step("pass") + "SGD.step = torch.optim.SGD.step\n", "SGD", "review",
     "torch.optim.SGD"),
    ("rebound through global", "def _swap():\n    global SGD\n    SGD = torch.optim.SGD\n" + step("pass")
     + "_swap()\n", "SGD", "review", "torch.optim.SGD"),
    ("defined in an if block", "if True:\n    class SGD(torch.optim.SGD):\n        pass\n", "SGD",
     "review", "torch.optim.SGD"),
    ("fused kernel named in step", step("torch._fused_sgd_([], [], [])"), "SGD", "review",
     "torch._fused_sgd_"),
    ("importing the kit", "import reference\n" + step("pass"), "SGD", "review", "grading kit"),
    ("aliased scheduler", "from torch.optim.lr_scheduler import LambdaLR as L\nclass PowerDecayLR(L):\n"
     "    pass\n", "PowerDecayLR", "review", "LambdaLR"),
    ("in-place dropout", "class Dropout(nn.Module):\n    def forward(self, x):\n"
     "        return torch.dropout_(x, 0.5, True)\n", "Dropout", "review", "torch.dropout_"),
    ("feature dropout", "class Dropout(nn.Module):\n    def forward(self, x):\n"
     "        return F.dropout1d(x)\n", "Dropout", "review", "dropout1d"),
    ("native batch norm", "class BatchNormFunction(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x, w, b, eps):\n        return torch.native_batch_norm(x, w, b, None, None, True, "
     "0.0, eps)[0]\n", "BatchNormFunction", "review", "native_batch_norm"),
    ("batch norm statistics kernel", "class BatchNorm1d(nn.Module):\n    def forward(self, x):\n"
     "        return torch.batch_norm_stats(x, 1e-5)\n", "BatchNorm1d", "review", "batch_norm_stats"),
    ("layer norm as batch norm", "class BatchNormFunction(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x, w, b, eps):\n        return F.layer_norm(x.T, x.T.shape[1:]).T\n",
     "BatchNormFunction", "review", "layer_norm"),
    ("alias of torch's class as the base", "from torch.optim import Adam as TorchAdam\n"
     "class Adam(TorchAdam):\n    pass\n", "Adam", "review", "torch.optim.Adam"),
    ("module bound to a variable", "nnf = torch.nn.functional\n"
     "class BatchNormFunction(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x, w, b, eps):\n        return nnf.batch_norm(x, None, None)\n",
     "BatchNormFunction", "review", "batch_norm"),
    ("module bound to a local", "class Dropout(nn.Module):\n    def forward(self, x):\n"
     "        f = torch.nn.functional\n        return f.dropout(x)\n", "Dropout", "review", "dropout"),
    # --- escapes that hide attribute names in strings and patterns -------------------------------------
    ("Formatter field path", "import string\n" + step("return string.Formatter().get_field('0.sys.modules', "
                                                       "(torch,), {})"), "SGD", "review", "string.Formatter"),
    ("format field dunder", step("return '{0.__globals__}'.format(self.step)"), "SGD", "review",
     "__globals__"),
    ("match class pattern", step("match self.step:\n    case object(__globals__=g):\n        return g"),
     "SGD", "review", "__globals__"),
    ("match cell contents", step("match self:\n    case object(cell_contents=c):\n        return c"), "SGD",
     "review", "cell_contents"),
    ("code string runner", "class Dropout(nn.Module):\n    def forward(self, x):\n"
     "        return torch.utils.benchmark.Timer(stmt='F.dropout(x)', globals={'x': x}).timeit(1)\n",
     "Dropout", "review", "torch.utils.benchmark"),
    ("torch's base class", "class BatchNorm2d(nn.modules.batchnorm._BatchNorm):\n    pass\n", "BatchNorm2d",
     "review", "torch.nn.modules.batchnorm"),
]

HONEST = [
    ("class name", step("return type(self).__name__ + self.__class__.__qualname__")),
    ("super init", "class SGD(Optimizer):\n    def __init__(self, params, lr=1e-3):\n"
     "        super().__init__(params, dict(lr=lr))\n    def __setstate__(self, state):\n"
     "        super().__setstate__(state)\n"),
    ("decorators", "class SGD(Optimizer):\n    @torch.no_grad()\n    def step(self, closure=None):\n"
     "        pass\n"),
    ("foreach ops", step("torch._foreach_add_(list(self.state), list(self.state), alpha=0.1)")),
    ("constant getattr and hasattr",
     step("m = getattr(self, 'momentum', 0.0)\nreturn hasattr(self, 'x') or m")),
    ("input as a parameter name", "class Dropout(nn.Module):\n    def forward(self, input):\n"
     "        return input * (torch.rand_like(input) > 0.5)\n"),
    ("assignments to own objects", step("for group in self.param_groups:\n    group['lr'] = 0.1\n"
                                        "    for p in group['params']:\n        p.grad = None\n"
                                        "        self.state[p]['step'] = 1\nself.extra = 1")),
    ("autograd ctx", "class BatchNormFunction(torch.autograd.Function):\n    @staticmethod\n"
     "    def forward(ctx, x, w, b, eps):\n        ctx.eps = eps\n        ctx.save_for_backward(x)\n"
     "        return x\n    @staticmethod\n    def backward(ctx, g):\n        (x,) = ctx.saved_tensors\n"
     "        return g, None, None, None\n"),
    ("torch's own utilities", "from torch.optim.optimizer import _use_grad_for_differentiable, _get_value, "
     "_dispatch_sqrt, _default_to_fused_or_foreach, _get_scalar_dtype, _to_scalar, _params_doc, ParamsT\n"
     "class SGD(Optimizer):\n    @_use_grad_for_differentiable\n    def step(self, closure=None):\n"
     "        if torch.jit.is_scripting() or torch.compiler.is_compiling():\n            return None\n"
     "        return Optimizer._group_tensors_by_device_and_dtype([[]])\n"),
    ("experiment at module level", step("pass") + "import time\nimport random\nimport math\nimport copy\n"
     "import numpy as np\nimport matplotlib.pyplot as plt\nfrom sklearn.datasets import load_digits\n"
     "from torch.utils.data import DataLoader, TensorDataset\nimport warnings\n"
     "from dataclasses import dataclass\nfrom collections import defaultdict\n"
     "import itertools, functools\nfrom typing import Optional\n"
     "torch.manual_seed(0)\nnp.random.seed(0)\nrandom.seed(0)\ntorch.set_num_threads(1)\n"
     "torch.backends.cudnn.benchmark = True\nplt.rcParams['figure.dpi'] = 100\n"
     "model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2), nn.Dropout(0.1))\n"
     "opt = torch.optim.SGD(model.parameters(), lr=0.1)\nref = torch.optim.Adam(model.parameters())\n"
     "loader = DataLoader(TensorDataset(torch.zeros(4, 2)), batch_size=2)\nstart = time.perf_counter()\n"
     "handle = model.register_forward_hook(lambda *a: None)\nwarnings.warn('x')\n"
     "best = copy.deepcopy(model.state_dict())\nif __name__ == '__main__':\n    plt.show()\n"),
    ("a local named like a torch name", step("model = self\nmodel.train = 1\nreturn model")),
    # --- the ways students and their tools write honest code (issue: static evidence never convicts) --
    ("torch's class aliased for a comparison in __main__",
     "from torch.optim import Adam as TorchAdam, Optimizer as Opt\nclass Adam(Opt):\n    pass\n"
     "if __name__ == '__main__':\n    import os\n    TorchAdam([torch.zeros(1)])\n    print(os.getcwd())\n"),
    ("isort-merged scheduler import", "from torch.optim.lr_scheduler import LambdaLR, LRScheduler\n"
     "class PowerDecayLR(LRScheduler):\n    pass\n"),
    ("exploratory import shadowed by the student's class", "from torch.optim import SGD\n" + step("pass")),
    ("type hints naming torch classes", "def fit(model: nn.Module, loss_fn, optimizer: torch.optim.SGD, *, "
     "scheduler: torch.optim.lr_scheduler.LambdaLR | None = None) -> dict:\n    return {}\n"),
    ("computed attribute names over the student's own", "class BatchNorm1d(nn.Module):\n"
     "    def reset(self):\n        for name in ('running_mean', 'running_var'):\n"
     "            getattr(self, name).fill_(0)\n        key = 'num_batches_tracked'\n"
     "        setattr(self, key, torch.zeros(()))\n"
     "        return [getattr(self, n) for n in BUFFERS]\nBUFFERS = ('weight', 'bias')\n"),
    ("computed names on the student's own objects",
     step("name = self.names[0]\nmode = 'train' if self else 'eval'\ngetattr(self, name)\n"
          "return getattr(self, mode)()")),
    ("an import only type checkers see", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
     "    from torch.optim import SGD as TorchSGD\n" + step("pass")),
    ("a comparison with torch at module level", step("pass") + "ref = torch.optim.SGD([torch.zeros(1)])\n"
     "ours = SGD([torch.zeros(1)])\n"),
]


@pytest.mark.parametrize(
    ("src", "name", "status", "needle"), [pytest.param(*a[1:], id=a[0]) for a in ATTACKS]
)
def test_attack_is_caught(src, name, status, needle):
    got, text = verdict(src, name)
    assert got == status, text
    assert needle in text, text


@pytest.mark.parametrize("src", [pytest.param(src, id=label) for label, src in HONEST])
def test_honest_snippet_passes(src):
    report = policy.check_source(HEAD + src)
    assert report.violations == [] and policy.verdicts(report, report.definitions) == {}


def test_a_violation_concerns_its_definition_and_those_that_use_it():
    src = ("def _helper(name):\n    return getattr(torch, name)\n"
           "class SGD(Optimizer):\n    def step(self, closure=None):\n        _helper('zeros')\n"
           "class Adam(Optimizer):\n    pass\n")
    report = policy.check_source(HEAD + src)
    assert policy.verdicts(report, ["SGD", "Adam"]).keys() == {"SGD"}
    module_level = policy.check_source(HEAD + "import os\n" + src)
    assert policy.verdicts(module_level, ["SGD", "Adam"]).keys() == {"SGD", "Adam"}


def test_module_level_use_of_torch_optimizers_is_not_delegation():
    src = step("pass") + "opt = torch.optim.SGD([torch.zeros(1)], lr=0.1)\nopt.step()\n"
    assert policy.check_source(HEAD + src).delegation_reason("SGD") is None


def test_fused_kernel_behind_a_flag_in_a_helper_is_left_to_the_runtime_tripwire():
    src = ("def _fused(ps):\n    torch._fused_sgd_(ps, ps, [])\n"
           "def _single(ps):\n    pass\n" + step("(_fused if self.defaults.get('fused') else _single)([])"))
    assert policy.check_source(HEAD + src).delegation_reason("SGD") is None


def test_review_digest_is_stable_for_the_same_code_and_changes_with_any_line():
    base = "def _h(n):\n    return getattr(torch, n)\n" + step("_h('zeros')")
    digest = policy.check_source(HEAD + base).review_digest("SGD")
    assert digest == policy.check_source(HEAD + base).review_digest("SGD")
    assert digest != policy.check_source(HEAD + base).review_digest("Adam")
    for changed in (base + "X = 1\n", base.replace("def _h(n):\n", "def _h(n):\n    n = n.strip()\n")):
        assert digest != policy.check_source(HEAD + changed).review_digest("SGD")


# --- whole honest files -----------------------------------------------------------------------------

def naive_export(path: Path) -> str:
    """What `jupyter nbconvert --to script` leaves: every code cell, magics as get_ipython() calls."""
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        lines = []
        for line in cell.source.split("\n"):
            line = re.sub(r"^(\s*)%(\w+)\s*(.*)$", r"\1get_ipython().run_line_magic('\2', '\3')", line)
            lines.append(re.sub(r"^(\s*)!(.*)$", r"\1get_ipython().system('\2')", line))
        cells.append("\n".join(lines))
    return "\n\n\n# In[ ]:\n\n\n".join(cells) + "\n"


def torch_paste() -> str:
    """torch/optim/{sgd,adagrad,rmsprop,adam}.py in one module, the relative import made absolute."""
    folder = Path(torch.optim.__file__).parent
    return "\n\n".join((folder / f"{name}.py").read_text().replace("from .optimizer import",
                                                                    "from torch.optim.optimizer import")
                       for name in ("sgd", "adagrad", "rmsprop", "adam"))


def honest_files():
    for assignment in assignment_ids():
        names = load_rubric(assignment).graded_names
        for path in sorted((SUBMISSIONS / assignment).glob("*/*.py")) + sorted(
                (SUBMISSIONS / assignment).glob("sample_class/*/*.py")):
            if path.stem != "erin":  # erin's file is a syntax error
                yield pytest.param(path.read_text(), names, id=str(path.relative_to(SUBMISSIONS)))
        notebook = ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        yield pytest.param(naive_export(notebook), names, id=f"{assignment}-naive-export")
        graded, _ = policy.graded_source(json.loads(notebook.read_text())["cells"])
        yield pytest.param(graded, names, id=f"{assignment}-graded-cells")
    for v in KNOWN_EQUIVALENT:
        text = (SUBMISSIONS / v.assignment / v.base).read_text().replace(v.old, v.new)
        yield pytest.param(text, load_rubric(v.assignment).graded_names, id=f"equivalent-{v.name}")
    for w in KNOWN_WRONG:  # a wrong file must lose its lines through the checks, not through the policy
        yield pytest.param(w.mutated_source(), load_rubric(w.assignment).graded_names, id=f"wrong-{w.name}")
    yield pytest.param(torch_paste(), load_rubric("02_optimizers").graded_names, id="torch-optim-sources")


@pytest.mark.parametrize(("text", "names"), list(honest_files()))
def test_honest_file_passes_the_policy(text, names):
    report = policy.check_source(policy.drop_magics(text))
    assert policy.verdicts(report, names) == {}


# --- the standalone command line --------------------------------------------------------------------

def test_cli_reports_problems_by_cell_and_none_for_a_solution(tmp_path, capsys):
    solution = ROOT / "solutions/02_optimizers/02_optimizers.ipynb"
    assert policy.main([str(solution)]) == 0
    assert "no problems found" in capsys.readouterr().out
    nb = json.loads(solution.read_text())
    cell = next(c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "SGD")
    cell["source"] = "".join(cell["source"]) + "\nimport os\n"
    bad = tmp_path / "02_optimizers.ipynb"
    bad.write_text(json.dumps(nb))
    assert policy.main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert "imports `os`" in out and re.search(r"the cell defining `SGD`, line \d+", out)


@pytest.mark.parametrize(
    ("got", "want", "same"),
    [(0, 0.0, True), (0.0, 0, True), (1e-3, 0.001, True), (False, False, True), (0, False, False),
     (False, 0.0, False), (None, None, True), (0, None, False), ((0.9, 0.999), (0.9, 0.999), True),
     ([0.9, 0.999], (0.9, 0.999), True), ((0.9, 0.99), (0.9, 0.999), False), (-1, -1, True)],
)
def test_defaults_compare_numbers_by_value_and_bools_by_identity(got, want, same):
    from autograder.families.interface import NonLiteral, same_default

    assert same_default(got, want) is same
    assert same_default(NonLiteral("required"), want) is False
