"""The worker-side package: everything the sandboxed worker process runs besides torch and the
student's module. It is copied into the sandbox as the package ``kitworker`` and must stay
self-contained (relative imports only) and hold no expected values.

- ``protocol``: the wire format (frames of JSON and safetensors), imported by both sides;
- ``registry``: the handler registry and the context handlers share (imports no handler);
- ``serve``: the request loop of one worker;
- ``confinement/``: the zygote process and the worker's confinement (namespaces, Landlock, rlimits,
  cgroups, seccomp);
- ``handlers/``: one module per graded family that runs the student's code on inputs the grader sent
  and returns raw tensors, the trusted stand-ins, the lecture's problems and the runtime tripwires.
"""
