"""Evaluation on a Ray cluster: each node runs jobs in its own Docker sandbox.

`dispatch.RayBackend` is a backend like Docker's, whose jobs run as Ray tasks
on the cluster's nodes (`node`), their trees shipped as archives (`trees`);
long-lived gym sandboxes run under Ray actors (`remote_gym`). Nothing here
imports Ray until a cluster is used.
"""
