"""The worker-side package: everything the sandboxed worker process runs besides torch and the
student's module. It is copied into the sandbox as the package ``kitworker`` and must stay
self-contained (relative imports only) and hold no expected values: it builds problems, runs the
student's code on inputs the grader sent, and returns raw tensors.
"""
