"""Checks of 01_gradient_descent: PowerDecayLR, minibatches and fit.

The worker only runs the student's code on inputs sent from here and returns raw results (learning
rates, index batches, an event log of a ``fit`` run with snapshots); every expected value is computed
here, from ``reference`` or the rule of DESIGN.md.

Isolation (one bug costs points in one graded name): the student's ``fit`` runs with a trusted
stand-in for the module-level ``minibatches`` and with torch's SGD and LambdaLR, instrumented
(``standins_gradient_descent``). The same pieces drive ``reference.fit`` here, so the two event logs
have one shape. Within ``fit``, each line reads only its own part of the log: the training loop is
judged step by step (gradients, lr, parameters), the bookkeeping against the student's *own* batch
losses and end-of-epoch states, early stopping and best weights on scripted validation losses (no
float noise can flip a discrete outcome), and the number of epochs by the validation passes made.
"""

from __future__ import annotations

import contextlib
import math
from functools import cache

import torch
from hypothesis import strategies as st

import reference
import reference.training

from ..sandbox.worker.handlers import fit_harness as GD
from .base import CheckContext, Fail, register
from .compare import explain_difference, fmt_number, tensor_literal
from .hypo import Mismatch, search
from .interface import same_default

MODULE = "gradient_descent"
LR_RTOL = 1e-12  # lr schedules: a closed form or a chained product of ~30 factors agree within this
BOOK_RTOL, BOOK_ATOL = 1e-6, 1e-9  # loss bookkeeping: float32 accumulation of float64 losses is fine
STATE_RTOL, STATE_ATOL = 1e-9, 1e-12  # training trajectories in float64 (compare.TOLERANCES)


# === PowerDecayLR ===================================================================================

BASE_LRS = [0.1, 1.0, 0.05, 2.0, 0.3]
POWERS = [0.3, 0.5, 1.0, 0.0, 2.0]


def _reference_lrs(base_lrs: list[float], power: float, steps: int) -> list[list[float]]:
    """Every group's lr after construction and after each step, with reference.PowerDecayLR."""
    opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in base_lrs])
    sched = reference.PowerDecayLR(opt, power=power)
    out = [[g["lr"] for g in opt.param_groups]]
    for _ in range(steps):
        opt.step()
        sched.step()
        out.append([g["lr"] for g in opt.param_groups])
    return out


def _lr_close(got, want: float) -> bool:
    return isinstance(got, float) and math.isfinite(got) and abs(got - want) <= LR_RTOL * abs(want) + 1e-300


def _scheduler_snippet(base_lrs: list[float], power: float | None, steps: int, extra: str = "") -> str:
    groups = ", ".join(f'{{"params": [params[{i}]], "lr": {lr!r}}}' for i, lr in enumerate(base_lrs))
    power_arg = "" if power is None else f", power={power!r}"
    lines = [
        "import torch",
        f"from {MODULE} import PowerDecayLR",
        f"params = [torch.zeros(1, requires_grad=True) for _ in range({len(base_lrs)})]",
        f"opt = torch.optim.SGD([{groups}])",
        f"sched = PowerDecayLR(opt{power_arg})",
        "lrs = [[g['lr'] for g in opt.param_groups]]  # right after construction",
        f"for k in range({steps}):",
        "    opt.step()",
        "    sched.step()",
        "    lrs.append([g['lr'] for g in opt.param_groups])",
    ]
    if extra:
        lines.append(extra)
    return "\n".join(lines)


def _signature_problems(
    info: dict, positional: list[str], optional: list[tuple[str, object]], required_kw: list[str] = ()
) -> list[str]:
    """Problems with a signature: ``positional`` names first and in order, ``required_kw`` present
    without a default, ``optional`` present with these defaults; any other parameter must be optional.
    The kind of a parameter (keyword-only or not) is not held against anyone."""
    params = info.get("signature") or []
    sig = {p["name"]: p for p in params}
    names = [p["name"] for p in params if p["kind"] in ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")]
    problems = []
    if names[: len(positional)] != positional:
        problems.append(
            f"the parameters must start with {', '.join(positional)} (in this order); "
            f"yours start with {', '.join(names[: len(positional)]) or 'nothing'}"
        )
    for name in required_kw:
        if name not in sig:
            problems.append(f"missing parameter `{name}`")
        elif sig[name]["has_default"]:
            problems.append(
                f"`{name}` must be required (no default), not default to {sig[name]['default']!r}"
            )
    for name, default in optional:
        p = sig.get(name)
        if p is None:
            problems.append(f"missing parameter `{name}` (default {default!r})")
        elif not p["has_default"] or not same_default(p["default"], default):
            got = repr(p["default"]) if p["has_default"] else "no default"
            problems.append(f"parameter `{name}` should default to {default!r}, not {got}")
    known = set(positional) | set(required_kw) | {n for n, _ in optional}
    extra = [
        p["name"]
        for p in params
        if p["name"] not in known
        and not p["has_default"]
        and p["kind"] not in ("VAR_POSITIONAL", "VAR_KEYWORD")
    ]
    if extra:
        problems.append(f"extra parameters must be optional: {', '.join(extra)}")
    return problems


@register("scheduler_interface")
def scheduler_interface(ctx: CheckContext) -> None:
    info = ctx.describe("PowerDecayLR")
    problems = []
    if not info["is_class"] or "torch.optim.lr_scheduler.LRScheduler" not in info.get("mro", []):
        problems.append("`PowerDecayLR` must be a class that subclasses torch.optim.lr_scheduler.LRScheduler")
    problems += _signature_problems(info, ["optimizer"], [("power", 0.3), ("last_epoch", -1)])
    if problems:
        raise Fail(
            "expected `class PowerDecayLR(LRScheduler)` with `__init__(self, optimizer, power=0.3, "
            "last_epoch=-1)`:\n- " + "\n- ".join(problems)
        )
    # It must also construct and step (a stub that raises NotImplementedError does not).
    lrs = ctx.call("scheduler_run", {"base_lrs": [0.1], "power": None, "steps": 1}).value["lrs"]
    if not all(isinstance(lr, float) for row in lrs for lr in row):
        raise Fail(
            "after `PowerDecayLR(opt)` and `sched.step()` the optimizer's lr is not a number: "
            f"{lrs}; get_lr() must return one float per param group"
        )


def _schedule_describe(ex: dict, detail: str) -> str:
    return (
        "the learning rates differ from base_lr / (k + 1) ** power on this case:\n"
        + _scheduler_snippet(ex["base_lrs"], ex["power"], ex["steps"])
        + f"\n# {detail}"
    )


@register("scheduler_schedule")
def scheduler_schedule(ctx: CheckContext) -> None:
    strategy = st.fixed_dictionaries(
        {
            "base_lrs": st.lists(st.sampled_from(BASE_LRS), min_size=1, max_size=3),
            "power": st.sampled_from(POWERS),  # always passed: a wrong default costs the interface line only
            "steps": st.integers(0, 30),
        }
    )

    def body(ex: dict) -> None:
        got = ctx.call(
            "scheduler_run", {"base_lrs": ex["base_lrs"], "power": ex["power"], "steps": ex["steps"]}
        ).value["lrs"]
        want = _reference_lrs(ex["base_lrs"], ex["power"], ex["steps"])
        if len(got) != len(want):
            raise Mismatch(f"recorded {len(got)} rows of lrs, expected {len(want)}")
        for k, (g_row, w_row) in enumerate(zip(got, want, strict=False)):
            for i, (g, w) in enumerate(zip(g_row, w_row, strict=False)):
                if not _lr_close(g, w):
                    when = "right after construction" if k == 0 else f"after {k} call(s) of sched.step()"
                    raise Mismatch(
                        f"lrs[{k}][{i}] ({when}, group {i}, base_lr={ex['base_lrs'][i]!r}) is {g!r}; "
                        f"expected {ex['base_lrs'][i]!r} / {k + 1} ** {ex['power']!r} = {w!r}"
                    )

    explicit = [
        {"base_lrs": [0.1], "power": 0.3, "steps": 5},
        {"base_lrs": [0.1, 1.0], "power": 1.0, "steps": 3},
        {"base_lrs": [1.0], "power": 0.0, "steps": 3},
        {"base_lrs": [2.0, 0.05], "power": 2.0, "steps": 4},
    ]
    search(ctx, strategy, body, max_examples=20, describe=_schedule_describe, explicit=explicit)


@register("scheduler_state_dict_resume")
def scheduler_state_dict_resume(ctx: CheckContext) -> None:
    # Guard: this line compares the scheduler with itself, which is only meaningful when the lr moves
    # (a constant 'schedule' resumes trivially). Whether it moves correctly is PowerDecayLR.schedule's job.
    lrs = ctx.call("scheduler_run", {"base_lrs": [1.0], "power": 0.5, "steps": 3}).value["lrs"]
    flat = [row[0] for row in lrs]
    if not all(isinstance(v, float) and math.isfinite(v) for v in flat) or len(set(flat)) == 1:
        raise Fail(
            "with base lr 1.0 and power=0.5 the lr stays the same over 3 steps "
            f"(lrs: {flat}); this check compares a resumed schedule with an uninterrupted one and "
            "needs a schedule that moves first"
        )

    strategy = st.fixed_dictionaries(
        {
            "base_lrs": st.lists(st.sampled_from(BASE_LRS), min_size=1, max_size=3),
            "power": st.sampled_from([0.3, 0.5, 1.0, 2.0]),
            "steps": st.integers(2, 12),
            "frac": st.floats(0.0, 1.0),
        }
    )

    def resume_at(ex: dict) -> int:
        return max(1, min(ex["steps"] - 1, round(ex["frac"] * ex["steps"])))

    def body(ex: dict) -> None:
        args = {"base_lrs": ex["base_lrs"], "power": ex["power"], "steps": ex["steps"]}
        plain = ctx.call("scheduler_run", args).value["lrs"]
        resumed = ctx.call("scheduler_run", {**args, "resume_at": resume_at(ex)}).value["lrs"]
        for k, (p_row, r_row) in enumerate(zip(plain, resumed, strict=False)):
            for i, (p, r) in enumerate(zip(p_row, r_row, strict=False)):
                if not (isinstance(p, float) and _lr_close(r, p)):
                    raise Mismatch(
                        f"after {k} steps group {i}'s lr is {r!r} in the resumed run but {p!r} "
                        "without the interruption"
                    )

    def describe(ex: dict, detail: str) -> str:
        k = resume_at(ex)
        rest = ex["steps"] - k
        return (
            "state_dict() / load_state_dict() does not resume the schedule:\n"
            + _scheduler_snippet(ex["base_lrs"], ex["power"], k)
            + "\nimport copy\nopt_state = copy.deepcopy(opt.state_dict())\n"
            "sched_state = copy.deepcopy(sched.state_dict())\n"
            f"opt = torch.optim.SGD([{{'params': [p], 'lr': lr}} "
            f"for p, lr in zip(params, {ex['base_lrs']!r})])\n"
            f"sched = PowerDecayLR(opt, power={ex['power']!r})\n"
            "opt.load_state_dict(opt_state)\nsched.load_state_dict(sched_state)\n"
            f"for k in range({rest}):  # the lrs must continue as without the interruption\n"
            "    opt.step()\n    sched.step()\n    lrs.append([g['lr'] for g in opt.param_groups])\n# "
            + detail
        )

    search(
        ctx,
        strategy,
        body,
        max_examples=12,
        describe=describe,
        explicit=[{"base_lrs": [0.1], "power": 0.3, "steps": 6, "frac": 0.5}],
    )


# === minibatches ====================================================================================


def _mb_snippet(calls: list[str], extra: str = "") -> str:
    return "\n".join(
        ["import torch", f"from {MODULE} import minibatches", *calls] + ([extra] if extra else [])
    )


@register("minibatches_interface")
def minibatches_interface(ctx: CheckContext) -> None:
    info = ctx.describe("minibatches")
    problems = []
    if info.get("is_class") or not info.get("callable"):
        problems.append("`minibatches` must be a function")
    problems += _signature_problems(info, ["n", "batch_size"], [("shuffle", True), ("generator", None)])
    if problems:
        raise Fail(
            "expected `def minibatches(n, batch_size, *, shuffle=True, generator=None)`:\n- "
            + "\n- ".join(problems)
        )
    bad = [{"n": 5, "batch_size": 0}, {"n": 5, "batch_size": -1}]
    calls = ctx.call("minibatches_run", {"calls": bad, "catch": True}).value["calls"]
    missed = []
    for call, out in zip(bad, calls, strict=False):
        if "ValueError" not in (out.get("mro") or []):
            got = f"raised {out['raised']}: {out['message']}" if out.get("raised") else "raised nothing"
            missed.append(
                f"list(minibatches({call['n']}, {call['batch_size']})) should raise ValueError; it {got}"
            )
    if missed:
        raise Fail("batch_size < 1 must raise ValueError:\n- " + "\n- ".join(missed))
    ok = ctx.call(
        "minibatches_run", {"calls": [{"n": 5, "batch_size": 2, "kwargs": {"shuffle": False}}], "catch": True}
    ).value["calls"][0]
    if ok.get("raised"):
        raise Fail(f"minibatches(5, 2, shuffle=False) raised {ok['raised']}: {ok['message']}")
    if not ok.get("iterable"):
        raise Fail(
            f"minibatches(5, 2, shuffle=False) returned a {ok.get('type')}, which is not iterable; "
            "yield the batches (a generator function) or return an iterable of tensors"
        )


def _coverage_problem(n: int, batch_size: int, shuffle: bool, reply: dict, order: torch.Tensor) -> str | None:
    if not reply.get("iterable"):
        return f"the return value (a {reply.get('type')}) is not iterable"
    if reply.get("truncated"):
        return f"it produced more than {n + 2} batches / {2 * n + 10} indices for n={n} (an endless loop?)"
    batches = reply["batches"]
    for j, b in enumerate(batches):
        if b["type"] != "Tensor":
            return f"batch {j} is a {b['type']}, not a torch.Tensor"
        if b["dtype"] != "int64" or b["dim"] != 1:
            return (
                f"batch {j} has dtype torch.{b['dtype']} and {b['dim']} dimension(s); "
                "expected a 1-D torch.long tensor"
            )
    lens = [b["len"] for b in batches]
    if n == 0 and lens in ([], [0]):
        return None
    expected = [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    if lens != expected:
        return (
            f"the batch sizes are {lens}; expected {expected} "
            f"(every batch has batch_size={batch_size} indices "
            "except possibly the last, and no batch is empty)"
        )
    if shuffle:
        if sorted(order.tolist()) != list(range(n)):
            held = sorted(order.tolist())
            return f"the batches hold {held}; every index of range({n}) exactly once was expected"
    elif order.tolist() != list(range(n)):
        return f"the indices in order are {order.tolist()}; expected {list(range(n))} (torch.arange order)"
    return None


@register("minibatches_coverage")
def minibatches_coverage(ctx: CheckContext) -> None:
    strategy = st.fixed_dictionaries(
        {
            "n": st.integers(0, 50),
            "batch_size": st.integers(1, 60),
            "shuffle": st.booleans(),
            "seed": st.integers(0, 1000),
        }
    )

    def call_of(ex: dict) -> dict:
        return {
            "n": ex["n"],
            "batch_size": ex["batch_size"],
            "kwargs": {"shuffle": ex["shuffle"]},
            "generator": "shared" if ex["shuffle"] else None,
        }

    def body(ex: dict) -> None:
        resp = ctx.call(
            "minibatches_run", {"calls": [call_of(ex)], "seed": ex["seed"], "global_seed": ex["seed"] + 1}
        )
        why = _coverage_problem(
            ex["n"],
            ex["batch_size"],
            ex["shuffle"],
            resp.value["calls"][0],
            resp.tensors.get("c0", torch.zeros(0, dtype=torch.long)),
        )
        if why:
            raise Mismatch(why)

    def describe(ex: dict, detail: str) -> str:
        gen = f", generator=torch.Generator().manual_seed({ex['seed']})" if ex["shuffle"] else ""
        return (
            "the batches do not cover range(n) as required on this case:\n"
            + _mb_snippet(
                [f"batches = list(minibatches({ex['n']}, {ex['batch_size']}, shuffle={ex['shuffle']}{gen}))"]
            )
            + f"\n# {detail}"
        )

    explicit = [
        {"n": 7, "batch_size": 3, "shuffle": False, "seed": 0},
        {"n": 6, "batch_size": 3, "shuffle": False, "seed": 0},
        {"n": 4, "batch_size": 10, "shuffle": False, "seed": 0},
        {"n": 9, "batch_size": 4, "shuffle": True, "seed": 1},
    ]
    search(ctx, strategy, body, max_examples=25, describe=describe, explicit=explicit)


def _expected_orders(n: int, seed: int, calls: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randperm(n, generator=gen) for _ in range(calls)]


@register("minibatches_generator")
def minibatches_generator(ctx: CheckContext) -> None:
    # Only the order of the indices is judged here (a common prefix): batch sizes, dtypes and
    # coverage belong to minibatches.coverage.
    strategy = st.fixed_dictionaries(
        {
            "n": st.integers(2, 40),
            "batch_size": st.integers(1, 50),
            "seed": st.integers(0, 1000),
            "global_rng": st.just(False),
        }
    )

    def body(ex: dict) -> None:
        # shuffle=True is passed explicitly: a wrong default costs minibatches.interface only.
        call = {
            "n": ex["n"],
            "batch_size": ex["batch_size"],
            "kwargs": {"shuffle": True},
            "generator": None if ex["global_rng"] else "shared",
        }
        # The global RNG gets another seed than the generator: ignoring the generator must show.
        seeds = {"seed": ex["seed"], "global_seed": ex["seed"] if ex["global_rng"] else ex["seed"] + 7919}
        resp = ctx.call("minibatches_run", {"calls": [call, call], **seeds})
        for i, (reply, want) in enumerate(
            zip(resp.value["calls"], _expected_orders(ex["n"], ex["seed"], 2), strict=False)
        ):
            got = resp.tensors.get(f"c{i}", torch.zeros(0, dtype=torch.long))
            which = "first" if i == 0 else "second"
            if not reply.get("iterable") or got.numel() == 0:
                raise Mismatch(f"the {which} call gave no indices")
            m = min(got.numel(), want.numel())
            if got[:m].tolist() != want[:m].tolist():
                source = "torch.manual_seed" if ex["global_rng"] else "the generator"
                note = (
                    ""
                    if i == 0
                    else f" (the second permutation drawn from {source}: each call must draw "
                    "a fresh torch.randperm from it)"
                )
                raise Mismatch(
                    f"the {which} call's indices in order are {got.tolist()}; expected {want.tolist()}{note}"
                )

    def describe(ex: dict, detail: str) -> str:
        n, bs, seed = ex["n"], ex["batch_size"], ex["seed"]
        if ex["global_rng"]:
            seeding, gen, ref_seeding, ref_gen = (
                f"torch.manual_seed({seed})",
                "",
                f"torch.manual_seed({seed})",
                "",
            )
        else:
            seeding, gen = f"g = torch.Generator().manual_seed({seed})", ", generator=g"
            ref_seeding, ref_gen = f"g2 = torch.Generator().manual_seed({seed})", ", generator=g2"
        lines = [
            seeding,
            f"first = torch.cat(list(minibatches({n}, {bs}, shuffle=True{gen})))",
            f"second = torch.cat(list(minibatches({n}, {bs}, shuffle=True{gen})))",
            ref_seeding,
            f"expected_first, expected_second = torch.randperm({n}{ref_gen}), torch.randperm({n}{ref_gen})",
        ]
        return (
            "the shuffled order is not torch.randperm(n, generator=generator), "
            "one fresh permutation per call:\n" + _mb_snippet(lines) + f"\n# {detail}"
        )

    explicit = [
        {"n": 6, "batch_size": 4, "seed": 3, "global_rng": True},
        {"n": 5, "batch_size": 2, "seed": 0, "global_rng": False},
    ]
    search(ctx, strategy, body, max_examples=15, describe=describe, explicit=explicit)


# === fit ============================================================================================

FIT_SIGNATURE = ["model", "loss_fn", "optimizer", "train", "val"]
FIT_OPTIONAL = [("patience", 1), ("scheduler", None), ("generator", None)]


def _grid(gen: torch.Generator, shape: tuple[int, ...], scale: float = 1.0) -> torch.Tensor:
    """Normal values rounded to multiples of 1/8 (exact in any float dtype, readable in feedback)."""
    return torch.round(torch.randn(shape, generator=gen, dtype=torch.float64) * scale * 8) / 8


@cache
def _fit_tensors(
    setup: str, n_train: int, n_val: int, d: int, hidden: int, seed: int
) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    X, Xv = _grid(gen, (n_train, d)), _grid(gen, (n_val, d))
    if setup == "probe":
        init = {
            "0.weight": _grid(gen, (hidden, d), 0.5),
            "0.bias": _grid(gen, (hidden,), 0.5),
            "3.weight": _grid(gen, (1, hidden), 0.5),
            "3.bias": _grid(gen, (1,), 0.5),
            "1.seen": torch.zeros((), dtype=torch.long),
        }
        y, yv = _grid(gen, (n_train,)), _grid(gen, (n_val,))
    else:  # the lecture's linear regression: y = X w* + b* + noise
        w, b = torch.tensor([1.5, -2.0, 0.5][:d], dtype=torch.float64), 0.25
        y = X @ w + b + _grid(gen, (n_train,), 0.1)
        yv = Xv @ w + b + _grid(gen, (n_val,), 0.1)
        init = {
            "0.weight": torch.zeros(1, d, dtype=torch.float64),
            "0.bias": torch.zeros(1, dtype=torch.float64),
        }
    out = {"X": X, "y": y, "Xv": Xv, "yv": yv}
    out.update({f"init/{k}": v for k, v in init.items()})
    # The validation set is recognised by its size: it must differ from every training batch size.
    return out


def _case(**over) -> dict:
    """A fit setup: the probe network on 7 training / 5 validation objects, batches 3, 3, 1."""
    case = {
        "setup": "probe",
        "n_train": 7,
        "n_val": 5,
        "d": 2,
        "hidden": 3,
        "data_seed": 11,
        "lr": 0.1,
        "momentum": 0.9,
        "scheduler": {"kind": "gamma", "gamma": 0.8},
        "script": None,
        "fit_kwargs": {"batch_size": 3, "max_epochs": 3, "patience": 3},
        "seed": 5,
        "snap_steps": False,
    }
    case.update(over)
    return case


def _wire(case: dict) -> tuple[dict, dict[str, torch.Tensor]]:
    tensors = _fit_tensors(
        case["setup"], case["n_train"], case["n_val"], case["d"], case["hidden"], case["data_seed"]
    )
    args = {
        k: case[k]
        for k in ("setup", "lr", "momentum", "scheduler", "script", "fit_kwargs", "seed", "snap_steps")
    }
    return args, dict(tensors)


def _validation_loss(setup: str, tensors: dict[str, torch.Tensor], state: dict[str, torch.Tensor]) -> float:
    """The loss of one eval-mode no-grad forward pass over the validation set with ``state``."""
    model = GD.build_model(setup, tensors)
    model.load_state_dict(state)
    model.eval()
    with torch.no_grad():
        pred = model(tensors["Xv"])
        return float(((pred.reshape(tensors["yv"].shape) - tensors["yv"]) ** 2).mean())


class FitRun:
    """One recorded ``fit`` run (the student's from the worker, or the reference's from here)."""

    def __init__(self, value: dict, tensors: dict[str, torch.Tensor]) -> None:
        self.events = value["events"]
        self.result = value["result"]
        self.tensors = tensors

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e["e"] == kind]

    def epochs(self) -> list[dict]:
        """One entry per validation pass (a run of consecutive validation loss calls): its first
        validation call and the training-batch losses (those backward went through) before it."""
        out, train, prev_val = [], [], False
        for ev in self.events:
            if ev["e"] != "loss":
                continue
            if ev["val"]:
                if not prev_val:
                    out.append({"train": train, "val": ev})
                    train = []
                prev_val = True
            else:
                prev_val = False
                if ev["bw"]:
                    train.append(ev)
        return out

    def state(self, prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1 :]: v for k, v in self.tensors.items() if k.startswith(prefix + "/")}

    def values(self, key: str) -> list[float | None] | None:
        entry = self.result.get(key) if self.result.get("type") == "dict" else None
        return entry.get("values") if entry else None

    def best_epoch(self) -> float | None:
        return self.result.get("best_epoch", {}).get("value") if self.result.get("type") == "dict" else None


@contextlib.contextmanager
def _patched(module, name: str, value):  # noqa: ANN001
    old = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, old)


def _reference_run(case: dict) -> FitRun:
    """reference.fit with the very same trusted pieces (its module-level minibatches is the stand-in)."""
    args, tensors = _wire(case)
    harness = GD.FitHarness(args, tensors)
    with _patched(reference.training, "minibatches", harness.minibatches):
        result = harness.run(reference.fit)
    return FitRun(*harness.report(result))


@cache
def _reference_cached(key: str) -> FitRun:
    return _reference_run(CASES[key])


def _student_run(ctx: CheckContext, case: dict) -> FitRun:
    args, tensors = _wire(case)
    resp = ctx.call("fit_run", args, tensors)
    return FitRun(resp.value, resp.tensors)


def _fit_snippet(case: dict) -> str:
    """The run as code the student can paste under their notebook."""
    _, t = _wire(case)
    kw = case["fit_kwargs"]
    lines = ["import torch", "from torch import nn", f"from {MODULE} import fit", ""]
    if case["setup"] == "probe":
        lines += [
            "class Probe(nn.Module):  # x 1.25 in training, identity in eval mode; counts training batches",
            "    def __init__(self):",
            "        super().__init__()",
            "        self.register_buffer('seen', torch.zeros((), dtype=torch.long))",
            "    def forward(self, x):",
            "        if self.training:",
            "            self.seen += 1",
            "            return 1.25 * x",
            "        return x",
            "",
            f"model = nn.Sequential(nn.Linear({case['d']}, {case['hidden']}), Probe(), nn.Tanh(), "
            f"nn.Linear({case['hidden']}, 1)).double()",
        ]
    else:
        lines.append(f"model = nn.Sequential(nn.Linear({case['d']}, 1)).double()")
    init = ", ".join(f"{k[5:]!r}: {tensor_literal(v)}" for k, v in t.items() if k.startswith("init/"))
    lines.append(f"model.load_state_dict({{{init}}})")
    for name, label in (("X", "X"), ("y", "y"), ("Xv", "X_val"), ("yv", "y_val")):
        lines.append(f"{label} = {tensor_literal(t[name], max_elements=256)}")
    lines.append(
        f"opt = torch.optim.SGD(model.parameters(), lr={case['lr']!r}, momentum={case['momentum']!r})"
    )
    sched = case["scheduler"]
    if sched and sched["kind"] == "gamma":
        lines.append(f"sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: {sched['gamma']!r} ** k)")
    elif sched:
        lines.append(
            f"sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: (k + 1) ** -{sched['power']!r})"
        )
    if case["script"] is None:
        lines += [
            "def loss_fn(pred, target):",
            "    return ((pred.reshape(target.shape) - target) ** 2).mean()",
        ]
    else:
        lines += [
            f"scripted = iter({case['script']!r})  # the validation loss after each epoch",
            "def loss_fn(pred, target):",
            "    loss = ((pred.reshape(target.shape) - target) ** 2).mean()",
            "    return torch.tensor(next(scripted), dtype=loss.dtype) if target is y_val else loss",
        ]
    args = ", ".join(f"{k}={v!r}" for k, v in kw.items())
    extra = (", scheduler=sched" if sched else "") + (
        f", generator=torch.Generator().manual_seed({case['seed']})" if case["seed"] is not None else ""
    )
    lines.append(f"out = fit(model, loss_fn, opt, (X, y), (X_val, y_val), {args}{extra})")
    return "\n".join(lines)


# --- the cases (fixed: every fit line runs the same code on every submission) ----------------------------

CASES: dict[str, dict] = {
    # Validation losses scripted to keep decreasing: all 3 epochs run and nothing is restored away.
    "loop": _case(script=[3.0, 2.0, 1.0], snap_steps=True),
    "interface": _case(script=[3.0, 2.0], fit_kwargs={"batch_size": 3, "max_epochs": 2, "patience": 2}),
    "bookkeeping": _case(),
    "best_middle": _case(
        script=[4.0, 2.0, 3.0, 3.0], fit_kwargs={"batch_size": 3, "max_epochs": 4, "patience": 10}
    ),
    "best_first": _case(
        script=[2.0, 3.0, 3.0], fit_kwargs={"batch_size": 3, "max_epochs": 3, "patience": 10}
    ),
    # The lecture's mini-batch SGD with eta_t = 0.1 / t^0.3 on a small linear regression.
    "convergence": _case(
        setup="linear",
        n_train=64,
        n_val=20,
        d=3,
        hidden=0,
        data_seed=3,
        lr=0.1,
        momentum=0.0,
        scheduler={"kind": "power", "power": 0.3},
        fit_kwargs={"batch_size": 8, "max_epochs": 20, "patience": 3},
        seed=2,
    ),
}


@register("fit_interface")
def fit_interface(ctx: CheckContext) -> None:
    info = ctx.describe("fit")
    problems = []
    if info.get("is_class") or not info.get("callable"):
        problems.append("`fit` must be a function")
    problems += _signature_problems(info, FIT_SIGNATURE, FIT_OPTIONAL, ["batch_size", "max_epochs"])
    if problems:
        raise Fail(
            "expected `def fit(model, loss_fn, optimizer, train, val, *, batch_size, max_epochs, patience=1, "
            "scheduler=None, generator=None)`:\n- " + "\n- ".join(problems)
        )
    case = CASES["interface"]
    run = _student_run(ctx, case)
    res = run.result
    problems = []
    if res.get("type") != "dict":
        problems.append(f"fit returned a {res.get('type')}; expected a dict")
    else:
        missing = [k for k in ("train_loss", "val_loss", "best_epoch") if k not in res["keys"]]
        if missing:
            problems.append(f"the returned dict has no key(s) {', '.join(missing)}")
        for key in ("train_loss", "val_loss"):
            if key in missing:
                continue
            entry = res[key]
            if entry["type"] != "list":
                problems.append(
                    f"result[{key!r}] is a {entry['type']}; expected a list of floats (one per epoch)"
                )
            elif not entry["floats"]:
                problems.append(
                    f"result[{key!r}] holds {', '.join(entry['types'])} values; expected Python floats "
                    "(use loss.item() or float(loss))"
                )
        if "best_epoch" not in missing and not res["best_epoch"]["int"]:
            problems.append(f"result['best_epoch'] is a {res['best_epoch']['type']}; expected an int")
    if problems:
        raise Fail(
            "fit's return value does not have the required form on this run:\n"
            + _fit_snippet(case)
            + "\n# "
            + "\n# ".join(problems)
        )


def _training_loop_problem(got: FitRun, ref: FitRun, case: dict) -> str | None:
    kw = case["fit_kwargs"]
    n, bs = case["n_train"], kw["batch_size"]
    per_epoch = -(-n // bs)
    mbs = got.of("mb")
    if not mbs:
        return (
            "fit never called the module-level `minibatches`: iterate "
            "`minibatches(len(X), batch_size, shuffle=True, generator=generator)` in every epoch"
        )
    for m in mbs:
        if (m["n"], m["batch_size"], m["shuffle"], m["gen"]) != (n, bs, True, True):
            gen = "generator" if m["gen"] else "<not the generator given to fit>"
            return (
                f"fit called minibatches({m['n']}, {m['batch_size']}, shuffle={m['shuffle']}, "
                f"generator={gen}); "
                f"expected minibatches(len(X), batch_size, shuffle=True, generator=generator) "
                f"(here len(X)={n}, batch_size={bs})"
            )
    # Optimizer steps per epoch (epochs delimited by the calls of minibatches).
    counts, current = [], None
    for ev in got.events:
        if ev["e"] == "mb":
            if current is not None:
                counts.append(current)
            current = 0
        elif ev["e"] == "step" and current is not None:
            current += 1
    if current is not None:
        counts.append(current)
    for e, c in enumerate(counts):
        if c != per_epoch:
            return (
                f"epoch {e} made {c} optimizer step(s) over {per_epoch} batches "
                f"(len(X)={n}, batch_size={bs}); "
                "call optimizer.step() once per mini-batch"
            )
    # Step by step against the reference run.
    steps, ref_steps = got.of("step"), ref.of("step")
    names = sorted(k.split("/", 1)[1] for k in ref.tensors if k.startswith("grad0/"))
    rtol, atol = STATE_RTOL, STATE_ATOL
    since_step: list[dict] = []
    marks = []  # the events between two optimizer steps, per step
    for ev in got.events:
        if ev["e"] == "step":
            marks.append(since_step)
            since_step = []
        else:
            since_step.append(ev)
    n_sched = len(got.of("sched"))
    for t in range(min(len(steps), len(ref_steps))):
        where = f"optimizer step {t + 1} (epoch {t // per_epoch}, batch {t % per_epoch})"
        before = marks[t]
        if any(ev["e"] == "loss" and not ev["val"] and ev["bw"] and not ev["training"] for ev in before):
            return (
                f"at {where} the model was in eval mode during the forward pass: call model.train() at the "
                "start of every epoch (the validation pass switches it to eval mode)"
            )
        for name in names:
            g = got.tensors.get(f"grad{t}/{name}")
            if g is None:
                return (
                    f"at {where} parameter `{name}` had no gradient: call loss.backward() before "
                    "optimizer.step()"
                )
            why = explain_difference(ref.tensors[f"grad{t}/{name}"], g, rtol, atol, f"grad of `{name}`")
            if why:
                zeros = sum(ev["e"] == "zero" for ev in before)
                if t > 0 and zeros == 0:
                    return (
                        f"at {where} the gradients of the previous batch were still there ({why}): call "
                        "optimizer.zero_grad() in every batch, before loss.backward()"
                    )
                return (
                    f"at {where} the gradient differs from the reference run ({why}); each batch should be "
                    "zero_grad, loss_fn(model(X[idx]), y[idx]), backward, step, with idx from minibatches"
                )
        lr, want = steps[t]["lr"], ref_steps[t]["lr"]
        if any(abs(a - b) > 1e-12 * abs(b) for a, b in zip(lr, want, strict=False)):
            return (
                f"{where} ran with lr={lr[0]!r}; expected {want[0]!r}: "
                "call scheduler.step() once after every "
                f"optimizer.step() (scheduler.step() was called {n_sched} times in {len(steps)} optimizer "
                "steps)"
            )
        for name in names:
            why = explain_difference(
                ref.tensors[f"step{t}/{name}"], got.tensors[f"step{t}/{name}"], rtol, atol, f"`{name}`"
            )
            if why:
                return f"after {where}: {why}"
    if n_sched != len(steps):
        return (
            f"scheduler.step() was called {n_sched} times in {len(steps)} optimizer steps; expected once "
            "after every optimizer.step()"
        )
    if not steps:
        return "fit made no optimizer step"
    return None


@register("fit_training_loop")
def fit_training_loop(ctx: CheckContext) -> None:
    case = CASES["loop"]
    why = _training_loop_problem(_student_run(ctx, case), _reference_cached("loop"), case)
    if why:
        raise Fail(
            f"the training loop differs from mini-batch SGD on this run:\n{_fit_snippet(case)}\n# {why}"
        )


def _close(got: float | None, want: float, rtol: float, atol: float) -> bool:
    return got is not None and math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)


def _bookkeeping_problem(got: FitRun, case: dict) -> str | None:
    train, val = got.values("train_loss"), got.values("val_loss")
    if train is None or val is None:
        return "fit must return a dict with lists 'train_loss' and 'val_loss'"
    epochs = got.epochs()
    if len(train) != len(epochs) or len(val) != len(epochs):
        return (
            f"fit ran {len(epochs)} epoch(s) (validation passes) but returned {len(train)} train_loss and "
            f"{len(val)} val_loss entries; expected one of each per epoch"
        )
    _, tensors = _wire(case)
    for e, epoch in enumerate(epochs):
        batches = epoch["train"]
        if not batches:
            return f"no training batch went through loss.backward() before the validation pass of epoch {e}"
        weighted = sum(b["n"] * b["value"] for b in batches) / sum(b["n"] for b in batches)
        if not _close(train[e], weighted, BOOK_RTOL, BOOK_ATOL):
            plain = sum(b["value"] for b in batches) / len(batches)
            listed = ", ".join(f"{fmt_number(b['value'])} ({b['n']} objects)" for b in batches)
            return (
                f"train_loss[{e}] is {train[e]!r}; the batch losses of epoch {e} (each before its step) were "
                f"{listed}: their batch-size-weighted mean is {weighted!r} "
                f"(the plain mean would be {plain!r})"
            )
        ev = epoch["val"]
        if ev["training"]:
            return (
                f"the validation pass of epoch {e} ran in training mode: call model.eval() before it "
                f"(val_loss[{e}] = {val[e]!r})"
            )
        if ev["grad"]:
            return f"the validation pass of epoch {e} ran with gradients enabled: wrap it in torch.no_grad()"
        state = got.state(f"val{e}")
        if not state:
            return f"fit ran {len(epochs)} validation passes; no more than {GD.MAX_VAL_SNAPSHOTS} are checked"
        want = _validation_loss(case["setup"], tensors, state)
        if not _close(val[e], want, BOOK_RTOL, BOOK_ATOL):
            return (
                f"val_loss[{e}] is {val[e]!r}; one eval-mode forward pass over the whole validation set at "
                f"the end of epoch {e} gives {want!r}"
            )
    return None


@register("fit_loss_bookkeeping")
def fit_loss_bookkeeping(ctx: CheckContext) -> None:
    case = CASES["bookkeeping"]
    why = _bookkeeping_problem(_student_run(ctx, case), case)
    if why:
        raise Fail(f"the recorded losses are wrong on this run:\n{_fit_snippet(case)}\n# {why}")


def stopping_rule(script: list[float], patience: int, max_epochs: int) -> tuple[int, int]:
    """DESIGN.md's rule: (best_epoch, epochs run) for validation losses ``script``."""
    best, best_epoch, bad = math.inf, 0, 0
    for e in range(max_epochs):
        v = script[min(e, len(script) - 1)]
        if e == 0 or v < best:
            best, best_epoch, bad = v, e, 0
        else:
            bad += 1
            if bad >= patience:
                return best_epoch, e + 1
    return best_epoch, max_epochs


def _early_case(ex: dict) -> dict:
    # One batch per epoch keeps each example quick; validation losses are scripted.
    return _case(
        script=ex["script"],
        momentum=0.0,
        scheduler=None,
        lr=0.05,
        fit_kwargs={"batch_size": 7, "max_epochs": len(ex["script"]), "patience": ex["patience"]},
    )


@register("fit_early_stopping")
def fit_early_stopping(ctx: CheckContext) -> None:
    strategy = st.fixed_dictionaries(
        {
            "script": st.lists(st.sampled_from([2.0, 1.0, 3.0]), min_size=1, max_size=10),
            "patience": st.integers(1, 4),
        }
    )

    def body(ex: dict) -> None:
        run = _student_run(ctx, _early_case(ex))
        best, epochs = stopping_rule(ex["script"], ex["patience"], len(ex["script"]))
        got_epochs = len(run.epochs())
        got_best = run.best_epoch()
        if got_best is None or got_best != int(got_best):
            raise Mismatch(f"best_epoch is not an int (got a {run.result.get('best_epoch', {}).get('type')})")
        if (int(got_best), got_epochs) != (best, epochs):
            raise Mismatch(
                f"with validation losses {ex['script']}, patience={ex['patience']} and "
                f"max_epochs={len(ex['script'])}: expected best_epoch={best} after {epochs} epoch(s); "
                f"got best_epoch={int(got_best)} after {got_epochs} epoch(s)"
            )

    def describe(ex: dict, detail: str) -> str:
        return (
            "early stopping does not follow the rule (best = first strictly lowest val loss; stop after "
            "`patience` epochs in a row without a strict improvement):\n"
            + _fit_snippet(_early_case(ex))
            + "\nprint(out['best_epoch'], len(out['val_loss']))\n# "
            + detail
        )

    explicit = [
        {"script": [2.0, 2.0], "patience": 1},
        {"script": [3.0, 2.0, 2.0, 1.0], "patience": 2},
        {"script": [3.0, 2.0, 2.0, 2.0, 1.0], "patience": 2},
        {"script": [1.0, 2.0, 3.0, 0.0], "patience": 3},
        {"script": [2.0, 1.0, 1.0, 1.0, 1.0], "patience": 4},
    ]
    search(ctx, strategy, body, max_examples=25, describe=describe, explicit=explicit)


def _identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-for-bit the same values (NaN equal to NaN: a diverged run is restored exactly too)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def _best_weights_problem(got: FitRun, case: dict) -> str | None:
    script = case["script"]
    best, _ = stopping_rule(script, case["fit_kwargs"]["patience"], case["fit_kwargs"]["max_epochs"])
    final = got.state("final")
    snaps = [got.state(f"val{e}") for e in range(len(got.epochs()))]
    if best >= len(snaps):
        return f"fit ran {len(snaps)} epoch(s); best_epoch {best} was never reached"
    want = snaps[best]
    if not want:
        return f"fit ran {len(snaps)} validation passes; no more than {GD.MAX_VAL_SNAPSHOTS} are checked"

    def same(a: dict, b: dict, keys) -> bool:
        return all(k in a and k in b and _identical(a[k], b[k]) for k in keys)

    if same(final, want, want.keys()):
        return None
    params = [k for k in want if not k.endswith("seen")]
    buffers = [k for k in want if k.endswith("seen")]
    if same(final, want, params):
        return (
            f"the parameters were restored but not the buffer(s) {', '.join(buffers)}: restore the full "
            "state_dict (parameters and buffers), e.g. model.load_state_dict(best_state)"
        )
    matches = [e for e, s in enumerate(snaps) if same(final, s, want.keys())]
    if matches and matches[-1] == len(snaps) - 1:
        return (
            f"the model ends with the state of the last epoch ({len(snaps) - 1}), not of best_epoch={best}: "
            "keep a deep copy (copy.deepcopy(model.state_dict()); state_dict() alone returns the live "
            "tensors) and "
            "restore it with model.load_state_dict at the end"
        )
    if matches:
        return f"the model ends with the state of epoch {matches[-1]}, not of best_epoch={best}"
    return (
        "the model's final state matches no epoch's end state; "
        f"expected the state at the end of epoch {best} "
        "(a deep copy of model.state_dict() taken right after that epoch's validation)"
    )


@register("fit_best_weights")
def fit_best_weights(ctx: CheckContext) -> None:
    for key in ("best_middle", "best_first"):
        case = CASES[key]
        why = _best_weights_problem(_student_run(ctx, case), case)
        if why:
            raise Fail(
                "the model does not end with the weights of best_epoch on this run:\n"
                f"{_fit_snippet(case)}\n# {why}"
            )


@register("fit_convergence")
def fit_convergence(ctx: CheckContext) -> None:
    case = CASES["convergence"]
    _, tensors = _wire(case)
    got = _student_run(ctx, case)
    ref = _reference_cached("convergence")
    mse = _validation_loss(case["setup"], tensors, got.state("final"))
    want = _validation_loss(case["setup"], tensors, ref.state("final"))
    if not (math.isfinite(mse) and mse <= 1.5 * want + 1e-3):
        raise Fail(
            "mini-batch SGD with the lecture's step size 0.1 / t^0.3 (torch's SGD and LambdaLR) "
            "does not fit a "
            f"small linear regression with your fit: the final validation MSE is {mse:.4g}; a correct fit "
            f"reaches {want:.4g}:\n{_fit_snippet(case)}"
        )
