"""Hostile: at import time tries the network with 1 s timeouts: a TCP connection to 127.0.0.1 on
$KIT_TEST_PORT (default 8765; the kit's test may listen there), a DNS query to 8.8.8.8:53 over UDP,
a TCP connection to 8.8.8.8:53 and a name lookup of example.com. Each success prints a line starting
with NETWORK_REACHED and is encoded into SGD's returned loss (1000 + successes) as a covert channel.

The grader must: run the worker without network (network namespace, or at least no route), so
nothing is reached, no NETWORK_REACHED line appears and SGD keeps all its points.
"""

import os
import socket

import torch
from torch.optim import Optimizer

_reached = []


def _probe():
    port = int(os.environ.get("KIT_TEST_PORT", "8765"))
    for host, p in (("127.0.0.1", port), ("8.8.8.8", 53)):
        try:
            with socket.create_connection((host, p), timeout=1.0) as conn:
                conn.sendall(b"optimizers.py says hello\n")
            _reached.append(f"tcp {host}:{p}")
        except OSError:
            pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(1.0)
            query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                     b"\x07example\x03com\x00\x00\x01\x00\x01")
            udp.sendto(query, ("8.8.8.8", 53))
            udp.recvfrom(512)
            _reached.append("udp 8.8.8.8:53")
    except OSError:
        pass
    try:
        socket.setdefaulttimeout(1.0)
        _reached.append("dns example.com -> " + socket.gethostbyname("example.com"))
    except OSError:
        pass
    finally:
        socket.setdefaulttimeout(None)
    for what in _reached:
        print("NETWORK_REACHED", what)


_probe()


class SGD(Optimizer):
    def __init__(self, params, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, *, maximize=False):
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if loss is not None and _reached:
            loss = loss.detach() * 0 + 1000 + len(_reached)
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = -p.grad if group["maximize"] else p.grad
                if group["weight_decay"] != 0:
                    d_p = d_p.add(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1 - group["dampening"])
                    d_p = d_p.add(buf, alpha=group["momentum"]) if group["nesterov"] else buf
                p.add_(d_p, alpha=-group["lr"])
        return loss
