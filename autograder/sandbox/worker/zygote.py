"""The zygote: a fresh interpreter that imports torch once and forks one worker per request.

Started by the grader as ``python -I -m kitworker.zygote CONTROL_FD`` from a scratch copy of this
package; it is never forked from the grader, so a worker cannot read reference results from its
parent's memory. Commands arrive on a Unix socket as JSON lines with the worker's two pipe ends
attached (SCM_RIGHTS):

- ``{"cmd": "spawn", "scratch": DIR, "limits": {...}, "level": LEVEL}`` + [req_read_fd, resp_write_fd]
  -> ``{"pid": PID}`` (the worker's pid as the grader sees it; killing it ends the worker's tree)
- ``{"cmd": "reap", "pid": PID}`` -> ``{"status": WAITSTATUS}`` after the worker ended.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys


def _child(fds: list[int], scratch: str, limits: dict, level: str) -> None:
    from . import isolation
    from .serve import serve

    req_fd, resp_fd = fds
    try:
        isolation.enter(level=level, scratch=scratch, limits=limits, keep_fds=(req_fd, resp_fd))
        serve(req_fd, resp_fd)
    finally:
        os._exit(0)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    import torch

    # Forking after a multi-threaded op can hang the child: keep the zygote single-threaded.
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    from . import ops  # noqa: F401  (preload the handlers before forking)

    while True:
        msg, anc_fds, _flags, _addr = socket.recv_fds(control, 1 << 16, 4)
        if not msg:
            return
        fds = list(anc_fds)
        cmd = json.loads(msg)
        if cmd["cmd"] == "spawn":
            pid = os.fork()
            if pid == 0:
                control.close()
                _child(fds, cmd["scratch"], cmd["limits"], cmd["level"])
            for fd in fds:
                os.close(fd)
            control.sendall(json.dumps({"pid": pid}).encode())
        elif cmd["cmd"] == "reap":
            try:
                _pid, status = os.waitpid(cmd["pid"], 0)
            except ChildProcessError:
                status = None
            control.sendall(json.dumps({"status": status}).encode())
        elif cmd["cmd"] == "exit":
            return


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the grader decides when the zygote ends
    main()
