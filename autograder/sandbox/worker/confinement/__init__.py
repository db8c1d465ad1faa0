"""Confinement: the zygote process and how a worker it forks confines itself before any student code
runs (namespaces and a new root, Landlock, rlimits, cgroups, seccomp). Nothing here grades."""
