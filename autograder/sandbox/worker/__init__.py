"""The worker-side package: everything the sandboxed worker process runs besides torch and the
student's module. It is copied into the sandbox as the package ``kitworker`` and must stay
self-contained (relative imports only), hold no expected values, and implement no graded name (the
stand-ins the checks need are sent by the grader, only to the workers that need them).

- ``protocol``: the wire format (frames of JSON and safetensors), imported by both sides;
- ``registry``: the handler registry and the context handlers share (imports no handler);
- ``serve``: the request loop of one worker (and how the student's module is loaded);
- ``guards``: switches off torch's implementation of the graded family before any student code runs;
- ``confinement/``: the zygote process and the worker's confinement (namespaces, Landlock, rlimits,
  cgroups, seccomp);
- ``handlers/``: one module per graded family that runs the student's code on inputs the grader sent
  and returns raw tensors, and the lecture's problems.
"""
