"""Known-wrong rows for the contract of assignment 03: (name, base, old, new, fails, reason) as in
known_wrong.py's `_w`, the assignment implied. Each violates one clause of the released notebook's
contract (autograder/grading/rubric/contracts/) and loses exactly the lines in `fails`."""

_DROPOUT_FORWARD = (
    "        self.p = p\n"
    "\n"
    "    def forward(self, x):\n"
    "        if not self.training or self.p == 0:\n"
    "            return x\n"
    "        if self.p == 1:\n"
    "            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients\n"
    "        keep = torch.rand_like(x) >= self.p\n"
    "        return x * keep / (1 - self.p)\n"
)

ROWS: list[tuple] = [
    ("drop_private_generator", "correct/loop.py",
     _DROPOUT_FORWARD,
     _DROPOUT_FORWARD.replace(
         "        self.p = p\n",
         "        self.p = p\n"
         "        self.generator = torch.Generator()  # the layer's own random stream\n",
     ).replace(
         "        keep = torch.rand_like(x) >= self.p\n",
         "        keep = torch.rand(x.shape, generator=self.generator).to(x.device) >= self.p\n",
     ),
     {"Dropout.statistics"},
     "Draws the masks from a private torch.Generator: torch.manual_seed no longer reproduces a run."),
    ("drop_stores_keep_prob", "correct/loop.py",
     _DROPOUT_FORWARD,
     "        self.p = 1 - p  # the lecture's keep probability\n"
     "\n"
     "    def forward(self, x):\n"
     "        if not self.training or self.p == 1:\n"
     "            return x\n"
     "        if self.p == 0:\n"
     "            return x * 0.0\n"
     "        keep = torch.rand_like(x) < self.p\n"
     "        return x * keep / self.p\n",
     {"Dropout.interface"},
     "Stores the keep probability as self.p: the forward is right, but .p (and the repr) say 1 - p."),
    ("drop_float32_mask", "correct/loop.py",
     "        keep = torch.rand_like(x) >= self.p\n"
     "        return x * keep / (1 - self.p)\n",
     "        mask = (torch.rand_like(x, dtype=torch.float32) >= self.p).float() / (1 - self.p)\n"
     "        return x * mask\n",
     {"Dropout.train_values"},
     "Builds the scaled mask in float32: a float64 input gets kept values off by float32 rounding."),
    ("drop_p1_cpu_zeros", "correct/loop.py",
     "            return x * 0.0  # zeros that stay in the graph: backward gives zero gradients\n",
     "            return torch.zeros(x.shape)\n",
     {"Dropout.train_values", "Dropout.device"},  # detached float32 zeros; on meta/CUDA a CPU tensor
     "Returns torch.zeros(x.shape) for p = 1: on the CPU, in the default dtype, outside the graph."),
    ("bnf_bias_grad_needs_weight", "correct/loop.py",
     "        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias else None\n",
     "        grad_bias = grad_out.sum(dim=dims) if ctx.has_bias and weight is not None else None\n",
     {"BatchNormFunction.backward"},
     "Returns no bias gradient when the weight is None (bias only)."),
    ("bnf_cpu_default_weight", "correct/loop.py",
     "        if weight is not None:\n"
     "            y = y * weight.view(shape)\n",
     "        scale = weight if weight is not None else torch.ones(x.shape[1])  # no weight: scale 1\n"
     "        y = y * scale.view(shape)\n",
     {"BatchNormFunction.device"},
     "Replaces a None weight by torch.ones(C), made on the CPU whatever the input's device."),
    ("bnf_inplace_centering", "correct/loop.py",
     "        var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)  # biased\n"
     "        inv_std = 1.0 / torch.sqrt(var + eps)\n"
     "        x_hat = (x - mean) * inv_std\n",
     "        x -= mean  # center in place, saves a copy\n"
     "        var = (x ** 2).mean(dim=dims, keepdim=True)  # biased\n"
     "        inv_std = 1.0 / torch.sqrt(var + eps)\n"
     "        x_hat = x * inv_std\n",
     {"BatchNormFunction.forward"},
     "Centers the input in place (x -= mean), changing the caller's tensor."),
    ("bn1_eval_under_no_grad", "correct/loop.py",
     "            x_hat = (x - self.running_mean.view(shape)) / torch.sqrt(self.running_var.view(shape) + self.eps)\n"
     "            if self.weight is not None:\n"
     "                x_hat = x_hat * self.weight.view(shape) + self.bias.view(shape)\n"
     "            return x_hat\n",
     "            with torch.no_grad():  # inference: no gradients needed\n"
     "                x_hat = (x - self.running_mean.view(shape)) / torch.sqrt(self.running_var.view(shape) + self.eps)\n"
     "                if self.weight is not None:\n"
     "                    x_hat = x_hat * self.weight.view(shape) + self.bias.view(shape)\n"
     "            return x_hat\n",
     {"BatchNorm1d.eval"},
     "Runs the eval-mode forward under torch.no_grad(): no gradient reaches x or the parameters."),
    ("bn2_buffers_ignore_dtype", "zoo/blind_s01_plain.py",
     "class BatchNorm2d(nn.Module):\n"
     "    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,\n"
     "                 device=None, dtype=None):\n",
     "class BatchNorm2d(nn.Module):\n"
     "    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,\n"
     "                 device=None, dtype=None):\n"
     "        dtype = None  # buffers and parameters in the default dtype\n",
     {"BatchNorm2d.interface"},
     "Creates the parameters and running statistics without the dtype asked for (float32 always)."),
    ("bn1_eval_no_stats_no_one_value_error", "correct/loop.py",
     "        if x.numel() // x.shape[1] == 1:\n",
     "        if self.training and x.numel() // x.shape[1] == 1:\n",
     {"BatchNorm1d.errors"},
     "Raises the one-value-per-channel error in training only, not in eval mode without running stats."),
    # Blind drill 2 (written from the released notebook only), caught since.
    ("bnf_ignores_needs_input_grad", "correct/loop.py",
     "        # None where autograd needs no gradient (ctx.needs_input_grad)\n"
     "        grad_x, grad_weight, grad_bias = (grad if need else None for grad, need in\n"
     "                                          zip((grad_x, grad_weight, grad_bias), ctx.needs_input_grad))\n",
     "",
     {"BatchNormFunction.backward"},
     "Returns gradients for weight and bias even where ctx.needs_input_grad says none is needed."),
    ("drop_half_input_float32_mask", "correct/loop.py",
     "        keep = torch.rand_like(x) >= self.p\n        return x * keep / (1 - self.p)\n",
     "        keep = torch.rand_like(x, dtype=torch.float32) >= self.p\n"
     "        return x * keep.float() / (1 - self.p)\n",
     {"Dropout.train_values"},
     "Builds the mask in float32 whatever the input's dtype: a bfloat16 or float16 input comes back as float32."),
]
