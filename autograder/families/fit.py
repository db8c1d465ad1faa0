"""Checks of ``fit`` (01_gradient_descent), on the fixed runs of ``fit_cases``.

Isolation (one bug costs points in one graded name): the student's ``fit`` runs with a trusted
stand-in for the module-level ``minibatches`` and with torch's SGD and LambdaLR, instrumented
(``handlers/fit_harness.py``). Each line reads only its own part of the log: the training loop is
judged step by step (gradients, lr, parameters), the bookkeeping against the student's *own* batch
losses and end-of-epoch states, early stopping and best weights on scripted validation losses (no
float noise can flip a discrete outcome), and the number of epochs by the validation passes made.
"""

from __future__ import annotations

import math

import torch

from ..records import CheckResult
from ..sandbox.worker.handlers import fit_harness as GD
from . import interface
from . import strategies as S
from .base import CheckContext, Fail, register
from .compare import explain_difference, fmt_number
from .fit_cases import (
    CASES,
    FIT,
    STATE,
    RunLog,
    case_of,
    expected_batches,
    reference_cached,
    reference_run,
    request,
    scripted_snippet,
    snippet,
    state_literal,
    validation_loss,
)
from .hypo import Mismatch, search


def student_run(ctx: CheckContext, case: dict) -> RunLog:
    return RunLog(ctx.call(request(case)))


# --- interface -----------------------------------------------------------------------------------------


def _result_problems(res: dict) -> list[str]:
    """What is wrong with the form of fit's return value (a description from the worker)."""
    if res.get("type") != "dict":
        return [f"fit returned a {res.get('type')}; expected a dict"]
    problems = []
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
    return problems


@register("fit_interface")
def fit_interface(ctx: CheckContext) -> None:
    interface.require(ctx.describe, FIT.interface)
    case = CASES["interface"]
    problems = _result_problems(student_run(ctx, case).result)
    if problems:
        kinds = ("{k: type(v).__name__ + (f' of {sorted({type(e).__name__ for e in v})}' "
                 "if isinstance(v, list) else '') for k, v in out.items()} "
                 "if isinstance(out, dict) else type(out).__name__")
        want = {"train_loss": "list of ['float']", "val_loss": "list of ['float']", "best_epoch": "int"}
        raise Fail(
            "fit's return value does not have the required form on this run:\n- " + "\n- ".join(problems)
            + "\n" + snippet(case, kinds, repr(want))
        )


# --- the training loop ---------------------------------------------------------------------------------


def _minibatches_problem(got: RunLog, n: int, bs: int) -> str | None:
    """fit must call the module-level minibatches the way DESIGN.md says, once per epoch."""
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
    return None


def _steps_per_epoch_problem(got: RunLog, n: int, bs: int) -> str | None:
    """One optimizer step per batch (epochs delimited by the calls of minibatches)."""
    per_epoch = -(-n // bs)
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
    return None


def _events_before_steps(got: RunLog) -> list[list[dict]]:
    """The events between two optimizer steps, per step."""
    marks, since_step = [], []
    for ev in got.events:
        if ev["e"] == "step":
            marks.append(since_step)
            since_step = []
        else:
            since_step.append(ev)
    return marks


def _step_problem(
    t: int, where: str, before: list[dict], got: RunLog, ref: RunLog, names: list[str]
) -> str | None:
    """Optimizer step ``t`` against the reference run: mode, gradients, lr and the parameters after it."""
    rtol, atol = FIT.state_rtol, FIT.state_atol
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
            if not any(ev["e"] == "zero" for ev in before):
                held = ("the gradients the model already held when fit was called" if t == 0
                        else "the gradients of the previous batch")
                return (
                    f"at {where} {held} were still there ({why}): call optimizer.zero_grad() in every "
                    "batch, before loss.backward()"
                )
            return (
                f"at {where} the gradient differs from the reference run ({why}); each batch should be "
                "zero_grad, loss_fn(model(X[idx]), y[idx]), backward, step, with idx from minibatches"
            )
    lr, want = got.of("step")[t]["lr"], ref.of("step")[t]["lr"]
    if any(abs(a - b) > 1e-12 * abs(b) for a, b in zip(lr, want, strict=False)):
        return (
            f"{where} ran with lr={lr[0]!r}; expected {want[0]!r}: "
            "call scheduler.step() once after every "
            f"optimizer.step() (scheduler.step() was called {len(got.of('sched'))} times in "
            f"{len(got.of('step'))} optimizer steps)"
        )
    for name in names:
        why = explain_difference(
            ref.tensors[f"step{t}/{name}"], got.tensors[f"step{t}/{name}"], rtol, atol, f"`{name}`"
        )
        if why:
            return f"after {where}: {why}"
    return None


def training_loop_problem(got: RunLog, ref: RunLog, case: dict) -> str | None:
    """What is wrong with the student's training loop on ``case``, step by step against the reference."""
    n, bs = case["n_train"], case["fit_kwargs"]["batch_size"]
    why = _minibatches_problem(got, n, bs) or _steps_per_epoch_problem(got, n, bs)
    if why:
        return why
    per_epoch = -(-n // bs)
    steps, ref_steps = got.of("step"), ref.of("step")
    names = sorted(k.split("/", 1)[1] for k in ref.tensors if k.startswith("grad0/"))
    marks = _events_before_steps(got)
    for t in range(min(len(steps), len(ref_steps))):
        where = f"optimizer step {t + 1} (epoch {t // per_epoch}, batch {t % per_epoch})"
        why = _step_problem(t, where, marks[t], got, ref, names)
        if why:
            return why
    n_sched = len(got.of("sched"))
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
    why = training_loop_problem(student_run(ctx, case), reference_cached("loop"), case)
    if why:
        ref = reference_cached("loop")
        epochs = len(ref.epochs())
        expected = (f"{{'weights': {state_literal(ref.state('final'))}, "
                    f"'batch targets': {expected_batches(case, epochs)!r}, "
                    f"'calls of minibatches': {epochs}}}")
        got = (f"{{'weights': {STATE}, 'batch targets': batches, "
               "'calls of minibatches': len(minibatches_calls)}")
        raise Fail(f"the training loop differs from mini-batch SGD on this run: {why}\n"
                   + snippet(case, got, expected))


# --- loss bookkeeping ----------------------------------------------------------------------------------


def _close(got: float | None, want: float, rtol: float, atol: float) -> bool:
    return got is not None and math.isfinite(got) and abs(got - want) <= atol + rtol * abs(want)


def _epoch_problem(e: int, epoch: dict, train: list, val: list, got: RunLog, case: dict) -> str | None:
    """Epoch ``e``'s recorded losses against the student's own batch losses and end-of-epoch state."""
    batches = epoch["train"]
    if not batches:
        return f"no training batch went through loss.backward() before the validation pass of epoch {e}"
    weighted = sum(b["n"] * b["value"] for b in batches) / sum(b["n"] for b in batches)
    if not _close(train[e], weighted, FIT.book_rtol, FIT.book_atol):
        plain = sum(b["value"] for b in batches) / len(batches)
        listed = ", ".join(f"{fmt_number(b['value'])} ({b['n']} objects)" for b in batches)
        return (
            f"train_loss[{e}]: got {train[e]!r}; the batch losses of epoch {e} (each before its step) were "
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
        return (
            f"fit ran {len(got.epochs())} validation passes; no more than {GD.MAX_VAL_SNAPSHOTS} are "
            "checked"
        )
    want = validation_loss(case["setup"], request(case).tensors, state)
    if not _close(val[e], want, FIT.book_rtol, FIT.book_atol):
        return (
            f"val_loss[{e}]: got {val[e]!r}; one eval-mode forward pass over the whole validation set at "
            f"the end of epoch {e} gives {want!r}"
        )
    return None


def bookkeeping_problem(got: RunLog, case: dict) -> str | None:
    train, val = got.values("train_loss"), got.values("val_loss")
    if train is None or val is None:
        return "fit must return a dict with lists 'train_loss' and 'val_loss'"
    epochs = got.epochs()
    if len(train) != len(epochs) or len(val) != len(epochs):
        return (
            f"fit ran {len(epochs)} epoch(s) (validation passes) but returned {len(train)} train_loss and "
            f"{len(val)} val_loss entries; expected one of each per epoch"
        )
    for e, epoch in enumerate(epochs):
        why = _epoch_problem(e, epoch, train, val, got, case)
        if why:
            return why
    return None


@register("fit_loss_bookkeeping")
def fit_loss_bookkeeping(ctx: CheckContext) -> None:
    case = CASES["bookkeeping"]
    why = bookkeeping_problem(student_run(ctx, case), case)
    if why:
        ref = reference_cached("bookkeeping")
        expected = {"train_loss": ref.values("train_loss"), "val_loss": ref.values("val_loss"),
                    "validation (grad, training)": [(False, False)] * len(ref.values("val_loss") or [])}
        got = ("{'train_loss': out['train_loss'], 'val_loss': out['val_loss'], "
               "'validation (grad, training)': validation}")
        raise Fail(f"the recorded losses are wrong on this run: {why}\n" + snippet(case, got, repr(expected)))


# --- early stopping and best weights -------------------------------------------------------------------


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
    return case_of(
        script=ex["script"],
        momentum=0.0,
        scheduler=None,
        lr=0.05,
        fit_kwargs={"batch_size": 7, "max_epochs": len(ex["script"]), "patience": ex["patience"]},
    )


EARLY_EXPLICIT = (
    {"script": [2.0, 2.0], "patience": 1},
    {"script": [3.0, 2.0, 2.0, 1.0], "patience": 2},
    {"script": [3.0, 2.0, 2.0, 2.0, 1.0], "patience": 2},
    {"script": [1.0, 2.0, 3.0, 0.0], "patience": 3},
    {"script": [2.0, 1.0, 1.0, 1.0, 1.0], "patience": 4},
)


def reference_stop(ex: dict) -> tuple[int, int]:
    """(best_epoch, epochs run) of ``reference.fit`` on the scripted run of ``ex``."""
    ref = reference_run(_early_case(ex))
    return int(ref.best_epoch()), len(ref.epochs())


def _describe_early(ex: dict, detail: str) -> str:
    best, epochs = reference_stop(ex)
    return (
        "early stopping does not follow the rule (best = first strictly lowest val loss; stop after "
        f"`patience` epochs in a row without a strict improvement): {detail}\n"
        + scripted_snippet(_early_case(ex),
                           "{'best_epoch': out['best_epoch'], 'epochs run': len(out['val_loss'])}",
                           repr({"best_epoch": best, "epochs run": epochs}))
    )


@register("fit_early_stopping")
def fit_early_stopping(ctx: CheckContext) -> None:
    def body(ex: dict) -> None:
        run = student_run(ctx, _early_case(ex))
        best, epochs = reference_stop(ex)
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

    search(ctx, S.scripted_stops(), body, max_examples=25, describe=_describe_early,
           explicit=list(EARLY_EXPLICIT))


def _identical(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Bit-for-bit the same values (NaN equal to NaN: a diverged run is restored exactly too)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point():
        return bool(((a == b) | (torch.isnan(a) & torch.isnan(b))).all())
    return torch.equal(a, b)


def _same(a: dict, b: dict, keys) -> bool:
    return all(k in a and k in b and _identical(a[k], b[k]) for k in keys)


def best_weights_problem(got: RunLog, case: dict) -> str | None:
    script = case["script"]
    best, _ = stopping_rule(script, case["fit_kwargs"]["patience"], case["fit_kwargs"]["max_epochs"])
    final = got.state("final")
    snaps = [got.state(f"val{e}") for e in range(len(got.epochs()))]
    if best >= len(snaps):
        return f"fit ran {len(snaps)} epoch(s); best_epoch {best} was never reached"
    want = snaps[best]
    if not want:
        return f"fit ran {len(snaps)} validation passes; no more than {GD.MAX_VAL_SNAPSHOTS} are checked"
    if _same(final, want, want.keys()):
        return None
    params = [k for k in want if not k.endswith("seen")]
    buffers = [k for k in want if k.endswith("seen")]
    if _same(final, want, params):
        return (
            f"the parameters were restored but not the buffer(s) {', '.join(buffers)}: restore the full "
            "state_dict (parameters and buffers), e.g. model.load_state_dict(best_state)"
        )
    matches = [e for e, s in enumerate(snaps) if _same(final, s, want.keys())]
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


def _best_case(ex: dict) -> dict:
    # Distinct scripted losses and patience = max_epochs: no tie and no early stop decides the best
    # epoch (those are fit.early_stopping's), only which weights the model ends with.
    n = len(ex["script"])
    return case_of(script=ex["script"], momentum=0.0, scheduler=None, lr=0.05,
                   fit_kwargs={"batch_size": 7, "max_epochs": n, "patience": n})


def _describe_best(ex: dict, detail: str) -> str:
    case = _best_case(ex)
    return (
        f"the model does not end with the weights of best_epoch on this run: {detail}\n"
        + snippet(case, STATE, state_literal(reference_run(case).state("final")))
    )


@register("fit_best_weights")
def fit_best_weights(ctx: CheckContext) -> None:
    for key in ("best_middle", "best_first"):
        case = CASES[key]
        why = best_weights_problem(student_run(ctx, case), case)
        if why:
            expected = state_literal(reference_cached(key).state("final"))
            raise Fail(
                f"the model does not end with the weights of best_epoch on this run: {why}\n"
                + snippet(case, STATE, expected)
            )

    def body(ex: dict) -> None:
        case = _best_case(ex)
        why = best_weights_problem(student_run(ctx, case), case)
        if why:
            raise Mismatch(why)

    search(ctx, S.scripted_bests(), body, max_examples=10, describe=_describe_best,
           explicit=[{"script": [3.0, 1.0, 2.0, 4.0]}])


# --- convergence ---------------------------------------------------------------------------------------


def _val_curve(log: RunLog, case: dict, tensors: dict) -> list[float]:
    """The validation loss at the end of each epoch, computed here from the snapshots of the weights
    (never from what the student's fit reports)."""
    curve = []
    for e in range(len(log.epochs())):
        state = log.state(f"val{e}")
        if not state:
            break
        curve.append(validation_loss(case["setup"], tensors, state, mse=True))
    return curve


def _convergence_plot(got: RunLog, ref: RunLog, case: dict, tensors: dict) -> dict:
    mine, theirs = _val_curve(got, case, tensors), _val_curve(ref, case, tensors)
    return {"title": "mini-batch SGD with the step size 0.1 / t^0.3 on a small linear regression",
            "xlabel": "epoch", "ylabel": "validation MSE (log scale)", "log": True,
            "caption": "the validation loss after each epoch of your fit against a correct fit's, same data, "
                       "model, optimizer and scheduler",
            "series": [{"label": "your fit", "x": list(range(len(mine))), "y": mine},
                       {"label": "a correct fit", "x": list(range(len(theirs))), "y": theirs}]}


@register("fit_convergence")
def fit_convergence(ctx: CheckContext) -> CheckResult:
    case = CASES["convergence"]
    tensors = request(case).tensors
    got = student_run(ctx, case)
    ref = reference_cached("convergence")
    mse = validation_loss(case["setup"], tensors, got.state("final"), mse=True)
    want = validation_loss(case["setup"], tensors, ref.state("final"), mse=True)
    plot = _convergence_plot(got, ref, case, tensors)
    if not (math.isfinite(mse) and mse <= 1.5 * want + 1e-3):
        raise Fail(
            "mini-batch SGD with the lecture's step size 0.1 / t^0.3 (torch's SGD and LambdaLR) "
            "does not fit a "
            f"small linear regression with your fit: the final validation MSE is {mse:.4g}; a correct fit "
            f"reaches {want:.4g}:\n"
            + snippet(case, "((model(X_val).reshape(y_val.shape) - y_val) ** 2).mean().item()", repr(want)),
            plot=plot,
        )
    return CheckResult(ctx.line.id, "passed", "", 1.0, plot)
