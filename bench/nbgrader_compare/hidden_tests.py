"""The hidden tests of the nbgrader way: what a competent TA writes in an afternoon.

One block per graded name, appended to that name's nbgrader test cell (``grade: true``, with points)
between nbgrader's ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` markers, after the public
self-check that is already there. Fixed inputs and a few asserts each, the way courses grade today:
numbers printed once from ``torch.optim`` and pasted in, comparisons with ``nn.BatchNorm*`` and
``F.batch_norm``, ``gradcheck`` for the hand-written backward, shape and zero-fraction checks for Dropout.
They pass on the solution notebooks (tests/bench/ checks that).
"""

from __future__ import annotations

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"

# A quadratic bowl the optimizer tests share: loss = sum(c * (p - t) ** 2) from p = [1, -2, 3].
_TRAJECTORY = '''\
def _trajectory(opt_class, steps=5, **kwargs):
    p = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    opt = opt_class([p], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = (torch.tensor([1.0, 10.0, 0.1]) * (p - torch.tensor([0.5, -1.0, 2.0])) ** 2).sum()
        loss.backward()
        opt.step()
    return p.detach()


def _raises_value_error(make):
    try:
        make()
    except ValueError:
        return True
    return False

'''

HIDDEN_TESTS: dict[str, str] = {
    # ------------------------------------------------------------------ 01_gradient_descent
    "PowerDecayLR": '''\
import inspect

# Two param groups with their own base lr, power 0.5 (values from 0.2 / sqrt(k + 1) and 0.5 / sqrt(k + 1)).
_w1, _w2 = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
_opt = torch.optim.SGD([{"params": [_w1]}, {"params": [_w2], "lr": 0.5}], lr=0.2)
_sched = PowerDecayLR(_opt, power=0.5)
_seen = []
for _ in range(4):
    _seen.append([group["lr"] for group in _opt.param_groups])
    _opt.step()
    _sched.step()
_expected = [[0.2, 0.5], [0.141421, 0.353553], [0.11547, 0.288675], [0.1, 0.25]]
for _row, _erow in zip(_seen, _expected):
    assert all(math.isclose(a, b, rel_tol=1e-5) for a, b in zip(_row, _erow)), (_seen, _expected)
assert inspect.signature(PowerDecayLR).parameters["power"].default == 0.3
''',
    "minibatches": '''\
assert [b.tolist() for b in minibatches(10, 4, shuffle=False)] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
assert sorted(torch.cat(list(minibatches(17, 5))).tolist()) == list(range(17))
# With a generator the order is torch.randperm's with that generator.
_order = torch.cat(list(minibatches(10, 3, generator=torch.Generator().manual_seed(5))))
assert torch.equal(_order, torch.randperm(10, generator=torch.Generator().manual_seed(5)))
for _bad in (0, -2):
    try:
        list(minibatches(5, _bad))
    except ValueError:
        pass
    else:
        raise AssertionError(f"batch_size={_bad} should raise ValueError")
''',
    "fit": '''\
torch.manual_seed(1)
_X = torch.randn(40, 3)
_y = _X @ torch.tensor([0.5, -1.0, 2.0]) - 0.3
_mse = lambda out, target: ((out.squeeze(1) - target) ** 2).mean()
# The scheduler steps once per optimizer step: 24 objects in batches of 10 are 3 steps per epoch.
_model = nn.Linear(3, 1)
_opt = torch.optim.SGD(_model.parameters(), lr=0.05)
_sched = torch.optim.lr_scheduler.LambdaLR(_opt, lambda k: 1.0)
_hist = fit(_model, _mse, _opt, (_X[:24], _y[:24]), (_X[24:], _y[24:]), batch_size=10, max_epochs=4,
            patience=4, scheduler=_sched)
assert len(_hist["val_loss"]) == 4
assert _sched.last_epoch == 12, _sched.last_epoch
# With lr = 0 nothing changes: the epoch's training loss is the loss over the whole training set
# (batch losses weighted by batch size), the validation loss never improves after epoch 0, and
# patience 2 stops training after epoch 2.
_model = nn.Linear(3, 1)
_hist = fit(_model, _mse, torch.optim.SGD(_model.parameters(), lr=0.0), (_X[:24], _y[:24]),
            (_X[24:], _y[24:]), batch_size=10, max_epochs=6, patience=2)
with torch.no_grad():
    _full_train = _mse(_model(_X[:24]), _y[:24]).item()
    _full_val = _mse(_model(_X[24:]), _y[24:]).item()
assert math.isclose(_hist["train_loss"][0], _full_train, rel_tol=1e-5), (_hist, _full_train)
assert math.isclose(_hist["val_loss"][0], _full_val, rel_tol=1e-5), (_hist, _full_val)
assert _hist["best_epoch"] == 0 and len(_hist["val_loss"]) == 3, _hist
''',
    # ------------------------------------------------------------------ 02_optimizers
    "SGD": _TRAJECTORY + '''\
# Five steps on a fixed quadratic; the numbers were printed from torch.optim.SGD.
assert torch.allclose(_trajectory(SGD, lr=0.01, momentum=0.9), torch.tensor([0.874658, -0.41958, 2.973835]),
                      atol=1e-5)
assert torch.allclose(_trajectory(SGD, lr=0.01, momentum=0.9, dampening=0.1, weight_decay=0.1),
                      torch.tensor([0.87143, -0.454913, 2.939203]), atol=1e-5)
assert torch.allclose(_trajectory(SGD, lr=0.01, momentum=0.9, nesterov=True, maximize=True),
                      torch.tensor([1.18247, -9.177029, 3.033934]), atol=1e-5)
assert _raises_value_error(lambda: SGD([torch.zeros(1, requires_grad=True)], lr=-0.1))
# Resuming from a state_dict continues exactly like the uninterrupted optimizer (deepcopy: state_dict()
# holds references to the live buffers).
import copy

_a = torch.tensor([1.0, -2.0], requires_grad=True)
_b = torch.tensor([1.0, -2.0], requires_grad=True)
_opt_a = SGD([_a], lr=0.1, momentum=0.9)
for _ in range(2):
    _a.grad = torch.tensor([0.5, -1.0])
    _opt_a.step()
with torch.no_grad():
    _b.copy_(_a)
_opt_b = SGD([_b], lr=0.1, momentum=0.9)
_opt_b.load_state_dict(copy.deepcopy(_opt_a.state_dict()))
_a.grad = _b.grad = torch.tensor([0.5, -1.0])
_opt_a.step()
_opt_b.step()
assert torch.allclose(_a, _b), (_a, _b)
''',
    "Adagrad": _TRAJECTORY + '''\
# Five steps on a fixed quadratic; the numbers were printed from torch.optim.Adagrad.
assert torch.allclose(_trajectory(Adagrad, lr=0.1), torch.tensor([0.722692, -1.697715, 2.697715]), atol=1e-5)
assert torch.allclose(
    _trajectory(Adagrad, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1),
    torch.tensor([0.729582, -1.701889, 2.721524]), atol=1e-5)
assert _raises_value_error(lambda: Adagrad([torch.zeros(1, requires_grad=True)], lr=-0.1))
''',
    "RMSprop": _TRAJECTORY + '''\
# Five steps on a fixed quadratic; the numbers were printed from torch.optim.RMSprop.
assert torch.allclose(_trajectory(RMSprop, lr=0.01), torch.tensor([0.721571, -1.696466, 2.696466]), atol=1e-5)
assert torch.allclose(
    _trajectory(RMSprop, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1),
    torch.tensor([0.808334, -1.802214, 2.799786]), atol=1e-5)
assert _raises_value_error(lambda: RMSprop([torch.zeros(1, requires_grad=True)], lr=-0.1))
''',
    "Adam": _TRAJECTORY + '''\
# Five steps on a fixed quadratic; the numbers were printed from torch.optim.Adam.
assert torch.allclose(_trajectory(Adam, lr=0.1), torch.tensor([0.527815, -1.507964, 2.507964]), atol=1e-5)
assert torch.allclose(_trajectory(Adam, lr=0.1, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
                      torch.tensor([0.53614, -1.512968, 2.506655]), atol=1e-5)
assert _raises_value_error(lambda: Adam([torch.zeros(1, requires_grad=True)], lr=-0.1))
''',
    # ------------------------------------------------------------------ 03_regularization
    "Dropout": '''\
torch.manual_seed(1)
_y = Dropout(p=0.3)(torch.ones(100, 100))
assert _y.shape == (100, 100)
assert 0.27 < (_y == 0).float().mean().item() < 0.33, "about 30% of the elements should be dropped"
assert torch.allclose(_y[_y != 0], torch.full_like(_y[_y != 0], 1 / 0.7)), "kept values times 1 / (1 - p)"
assert torch.equal(Dropout(p=0.0)(torch.ones(5)), torch.ones(5))
assert torch.equal(Dropout(p=1.0)(torch.ones(5)), torch.zeros(5))
# The gradient flows through the kept elements only, scaled like them.
_x = torch.ones(1000, requires_grad=True)
_out = Dropout(p=0.5)(_x)
_out.sum().backward()
assert torch.equal(_x.grad, (_out != 0).float() * 2)
''',
    "BatchNormFunction": '''\
torch.manual_seed(1)
_x = torch.randn(6, 4, 5, dtype=torch.float64, requires_grad=True)
_w = torch.randn(4, dtype=torch.float64, requires_grad=True)
_b = torch.randn(4, dtype=torch.float64, requires_grad=True)
_expected = torch.nn.functional.batch_norm(_x, None, None, _w, _b, training=True, eps=1e-5)
assert torch.allclose(BatchNormFunction.apply(_x, _w, _b, 1e-5), _expected)
assert torch.autograd.gradcheck(lambda x, w, b: BatchNormFunction.apply(x, w, b, 1e-5), (_x, _w, _b))
assert torch.autograd.gradcheck(lambda x: BatchNormFunction.apply(x, None, None, 1e-5), (_x,))
''',
    "BatchNorm1d": '''\
# Against nn.BatchNorm1d: three training batches (outputs and running statistics), then eval mode.
torch.manual_seed(1)
for _momentum in (0.1, None):
    _ours, _theirs = BatchNorm1d(5, momentum=_momentum), nn.BatchNorm1d(5, momentum=_momentum)
    for _ in range(3):
        _x = torch.randn(16, 5) * 3 + 1
        assert torch.allclose(_ours(_x), _theirs(_x), atol=1e-5)
        assert torch.allclose(_ours.running_mean, _theirs.running_mean, atol=1e-5)
        assert torch.allclose(_ours.running_var, _theirs.running_var, atol=1e-5)
    _ours.eval()
    _theirs.eval()
    assert torch.allclose(_ours(_x), _theirs(_x), atol=1e-5)
''',
    "BatchNorm2d": '''\
# Against nn.BatchNorm2d: three training batches (outputs and running statistics), then eval mode.
torch.manual_seed(1)
for _momentum in (0.1, None):
    _ours, _theirs = BatchNorm2d(3, momentum=_momentum), nn.BatchNorm2d(3, momentum=_momentum)
    for _ in range(3):
        _x = torch.randn(8, 3, 4, 4) * 3 + 1
        assert torch.allclose(_ours(_x), _theirs(_x), atol=1e-5)
        assert torch.allclose(_ours.running_mean, _theirs.running_mean, atol=1e-5)
        assert torch.allclose(_ours.running_var, _theirs.running_var, atol=1e-5)
    _ours.eval()
    _theirs.eval()
    assert torch.allclose(_ours(_x), _theirs(_x), atol=1e-5)
''',
}


def hidden_block(name: str) -> str:
    """The hidden part of ``name``'s test cell, markers included."""
    return f"\n{BEGIN}\n{HIDDEN_TESTS[name].rstrip()}\n{END}"
