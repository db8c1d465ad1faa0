"""What the guards switch off in a worker: torch's own implementation of the family being graded.

A score must come only from what the student's code computed. A tripwire that watches for calls into
torch's implementation from inside the student's interpreter can be switched off by the next escape
from that interpreter; so instead the worker that grades a graded name does not *have* torch's
implementation of that name's family. Before any student code runs (``kitworker.guards.disable``):

- **aten kernels**: every operator of the family (``native_batch_norm``, ``native_dropout``,
  ``_fused_adam_``, their backward and out variants, ...) gets a kernel that raises, registered at
  every dispatch key where torch has one (the composite, backend, meta and autograd keys). The
  dispatcher is process-wide, so every thread, every Python path (``torch.ops``, ``torch._C``,
  ``F.dropout``, a module) and ``inference_mode`` reach the same kernel. The registration's handle is
  leaked on purpose (no Python object refers to it), so no Python code can take it back.
- **Python implementations**: every function of the family's torch source files (``torch.optim.adam``,
  the reference decompositions in ``torch._decomp``/``torch._refs``, ``LambdaLR``'s methods, ...)
  gets its code object replaced by one that raises. Every reference to the function, stashed or not,
  now holds the new code, and the old code object is freed: nothing in the process computes it any
  more.
- **source files**: at the ``namespaces`` and ``landlock`` levels those files (and their bytecode
  caches) are not readable in the worker, so they cannot be executed anew.

A call into a disabled implementation raises ``RuntimeError`` and writes its label to the worker's hit
pipe; a hit during a graded call makes that graded name ``forbidden``. Nothing a student can do from
inside the worker turns a disabled implementation back into a working one; at worst the student can
hide the hit, and then the graded call simply fails. ``families/recipes.py`` says which guards each
graded name's worker gets.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

# As sys.path names it (the worker sees the same paths, bound at the same places), not resolved.
TORCH_ROOT = Path(torch.__file__).parent


@dataclass(frozen=True)
class Guard:
    """One family of torch's implementations, as the worker switches it off.

    ``ops``: aten operator base names (shell patterns) that get a raising kernel, minus ``skip_ops``.
    ``files``: torch's source files (relative to ``torch/``, patterns allowed) whose functions are
    disabled, those whose name matches ``functions``; with ``subclasses_of`` (a dotted class name),
    only the methods of its subclasses, except the classes named in ``keep``. ``label``: how feedback
    names the family."""

    label: str
    ops: tuple[str, ...] = ()
    skip_ops: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    functions: tuple[str, ...] = ("*",)
    subclasses_of: str = ""
    keep: tuple[str, ...] = ()


_OPTIMIZER_FILES = tuple(f"optim/{name}.py" for name in (
    "sgd", "adam", "adamw", "adagrad", "rmsprop", "adadelta", "adamax", "nadam", "radam", "asgd", "lbfgs",
    "rprop", "sparse_adam", "_adafactor", "_muon", "_functional")) + ("optim/_multi_tensor/*.py",)
# torch's pure-Python reference implementations (decompositions and refs) live here, next to the
# functional forms; only the functions of the family (by name) are disabled in them.
_REFERENCE_FILES = ("nn/functional.py", "_decomp/decompositions.py", "_decomp/__init__.py",
                    "_refs/__init__.py", "_refs/nn/functional/__init__.py")
_NORM_PATTERNS = ("*batch_norm*", "*instance_norm*", "*layer_norm*", "*group_norm*")

GUARDS: dict[str, Guard] = {
    "optimizers": Guard(
        label="torch.optim's optimizers",
        ops=("_fused_adam*", "_fused_adamw*", "_fused_sgd*", "_fused_adagrad*"),
        files=_OPTIMIZER_FILES,
    ),
    "schedulers": Guard(
        label="torch.optim.lr_scheduler's schedulers",
        files=("optim/lr_scheduler.py", "optim/swa_utils.py"),
        subclasses_of="torch.optim.lr_scheduler.LRScheduler",
        keep=("LRScheduler", "_LRScheduler"),
    ),
    "dropout": Guard(
        label="torch's dropout",
        ops=("*dropout*",),
        skip_ops=("*attention*", "_cudnn_init_dropout_state", "_fill_mem_eff_dropout_mask_"),
        files=(*_REFERENCE_FILES, "nn/modules/dropout.py"),
        functions=("*dropout*",),
    ),
    "norms": Guard(
        label="torch's batch norm (and layer, instance and group norm)",
        ops=_NORM_PATTERNS,
        files=(*_REFERENCE_FILES, "nn/modules/batchnorm.py", "nn/modules/instancenorm.py",
               "nn/modules/normalization.py"),
        functions=(*_NORM_PATTERNS, "_normalize", "*norm_helper*"),
    ),
}


def guard_config() -> dict:
    """The guard table as the zygote receives it (JSON): what each family switches off."""
    return {name: asdict(guard) for name, guard in GUARDS.items()}


@functools.cache
def masked_files(families: tuple[str, ...]) -> tuple[str, ...]:
    """The torch source files (and their bytecode caches) a worker with these guards must not read."""
    out: set[str] = set()
    for family in families:
        for pattern in GUARDS[family].files:
            for path in TORCH_ROOT.glob(pattern):
                if path.is_file():
                    out.add(str(path))
                    cached = Path(importlib.util.cache_from_source(str(path)))
                    if cached.is_file():
                        out.add(str(cached))
    return tuple(sorted(out))
