"""One batched forward pass for many policies of one architecture, in numpy when it can be.

The gym runner steps every (policy, seed) episode in lockstep and needs, at each
step, the outputs of G policies on E observations each. ``torch.func.vmap``
costs milliseconds per call at these sizes, far more than stepping the
environments. Most policies here are plain MLPs, so when a module's forward
is a chain of ``nn.Linear`` layers and elementwise activations (found by
``torch.fx.symbolic_trace``) its weights are stacked into float32 arrays
[G, in, out] and each layer is one ``np.matmul``: tens of microseconds.

The numpy path is only taken after it matched every policy's own torch
forward on a probe batch of random observations; otherwise the forward is
vmap (as before), and when vmap fails at call time a per-policy loop.

Like every runner this imports only the standard library at module level;
torch and numpy come from the sandbox's environment, inside functions. It
leaves thread settings to the caller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

PROBE_ROWS = 64
RTOL, ATOL = 1e-4, 1e-5

# Activations by the names fx records them under: call_method names, and the
# __name__ of call_function targets (torch.tanh, F.relu, ...) and module classes.
_ACTIVATIONS = {"tanh", "relu", "sigmoid", "identity"}
_INPLACE = {"tanh_": "tanh", "relu_": "relu", "sigmoid_": "sigmoid"}


class Forward:
    """Outputs [G, E, *out] as numpy for observations [G, E, *obs]; `kind` names the path.

    Falls back on its own when its path fails at call time: numpy, then vmap,
    then a loop over the policies, whose error (if any) is the one raised.
    """

    def __init__(self, policies: Sequence[Any], kind: str, run: Callable[[Any], Any]) -> None:
        self.policies = list(policies)
        self.kind = kind
        self._run = run

    def __call__(self, obs: Any) -> Any:
        """The outputs of policy g on obs[g], for every g, as one numpy array."""
        while True:
            try:
                return self._run(obs)
            except Exception:
                if self.kind == "loop":
                    raise
                self.kind, self._run = _fallback(self.policies, self.kind)


def batched_forward(policies: Sequence[Any]) -> Forward:
    """The fastest forward that gives the same outputs as each policy's own forward."""
    policies = list(policies)
    if not policies:
        raise ValueError("batched_forward needs at least one policy")
    try:
        run = _numpy_forward(policies)
    except Exception:  # tracing or stacking failed: the torch paths do not need either
        run = None
    if run is not None:
        return Forward(policies, "numpy", run)
    kind, run = _fallback(policies, "numpy")
    return Forward(policies, kind, run)


def _fallback(policies: list[Any], failed: str) -> tuple[str, Callable[[Any], Any]]:
    """The next path after `failed`: vmap for several policies, else the loop."""
    if failed == "numpy" and len(policies) > 1:
        try:
            return "vmap", _vmap_forward(policies)
        except Exception:  # stack_module_state refuses the modules
            pass
    return "loop", _loop_forward(policies)


# --- the numpy path -------------------------------------------------------------------


_CHAINS: dict[Any, Any] = {}
"""Traced chains by module structure: a long-lived runner traces each architecture once
(the probe in `_agrees` still checks every policy's own forward)."""


def _numpy_forward(policies: list[Any]) -> Callable[[Any], Any] | None:
    """A numpy forward over stacked weights, or None when the modules are not plain MLPs."""
    chains = [_traced(p) for p in policies]
    if chains[0] is None or any(c != chains[0] for c in chains):
        return None
    layers = _stack(policies, chains[0])
    if layers is None:
        return None
    run = _numpy_run(layers)
    return run if _agrees(policies, run, _linears(layers)[0][0].shape[1]) else None


def _traced(policy: Any) -> tuple[tuple[str, str], ...] | None:
    """`_chain(policy)`, traced once per class and module structure."""
    import torch

    if not isinstance(policy, torch.nn.Module) or _has_hooks(policy):
        return None
    shapes = tuple((n, tuple(t.shape)) for n, t in policy.state_dict().items())
    key = (type(policy), tuple((n, type(m)) for n, m in policy.named_modules()), shapes)
    if key not in _CHAINS:
        _CHAINS[key] = _chain(policy)
    return _CHAINS[key]


def _chain(policy: Any) -> tuple[tuple[str, str], ...] | None:
    """The forward as (("linear", module path) | ("act", name), ...), or None if it is not one."""
    import torch
    from torch import fx

    if not isinstance(policy, torch.nn.Module) or _has_hooks(policy):
        return None
    graph = fx.symbolic_trace(policy).graph
    steps: list[tuple[str, str]] = []
    current = None
    for node in graph.nodes:
        if node.op == "placeholder":
            if current is not None:
                return None  # a second input
            current = node
            continue
        if node.op == "output":
            return tuple(steps) if node.args == (current,) and steps else None
        step = _step(policy, node)
        if step is None or current is None or node.args != (current,):
            return None
        if set(node.kwargs) - {"inplace"}:
            return None
        steps.append(step)
        current = node
    return None


def _step(policy: Any, node: Any) -> tuple[str, str] | None:
    """One node of the traced graph as a step of the chain, or None if unsupported."""
    import torch

    if node.op == "call_module":
        module = policy.get_submodule(node.target)
        if type(module) is torch.nn.Linear:
            return ("linear", node.target)
        name = type(module).__name__.lower()
        kinds = {torch.nn.Tanh, torch.nn.ReLU, torch.nn.Sigmoid, torch.nn.Identity}
        return ("act", name) if type(module) in kinds else None
    if node.op == "call_method":
        name = _INPLACE.get(node.target, node.target)
        return ("act", name) if name in _ACTIVATIONS - {"identity"} else None
    if node.op == "call_function":
        functions = {
            torch.tanh: "tanh",
            torch.relu: "relu",
            torch.sigmoid: "sigmoid",
            torch.nn.functional.tanh: "tanh",
            torch.nn.functional.relu: "relu",
            torch.nn.functional.sigmoid: "sigmoid",
        }
        name = functions.get(node.target)
        return ("act", name) if name else None
    return None


def _has_hooks(policy: Any) -> bool:
    """Hooks change what a module computes, and tracing does not see them."""
    return any(
        m._forward_hooks or m._forward_pre_hooks or getattr(m, "_forward_hooks_with_kwargs", None)
        for m in policy.modules()
    )


def _stack(policies: list[Any], chain: tuple[tuple[str, str], ...]) -> list[Any] | None:
    """Per step: (weights [G, in, out], biases [G, 1, out]) for a linear layer, or its name."""
    import numpy as np
    import torch

    layers: list[Any] = []
    width = None
    for kind, target in chain:
        if kind == "act":
            layers.append(target)
            continue
        modules = [p.get_submodule(target) for p in policies]
        weight = modules[0].weight
        if weight.dtype != torch.float32 or weight.device.type != "cpu":
            return None
        if width is not None and modules[0].in_features != width:
            return None
        width = modules[0].out_features
        with torch.no_grad():
            w = np.stack([m.weight.detach().numpy().T for m in modules])
            b = np.stack(
                [
                    np.zeros(m.out_features, np.float32)
                    if m.bias is None
                    else m.bias.detach().numpy()
                    for m in modules
                ]
            )
        layers.append((np.ascontiguousarray(w, np.float32), b.astype(np.float32)[:, None, :]))
    return layers if width is not None else None


def _linears(layers: list[Any]) -> list[Any]:
    return [layer for layer in layers if isinstance(layer, tuple)]


def _numpy_run(layers: list[Any]) -> Callable[[Any], Any]:
    """The forward over stacked layers: one matmul per linear layer, activations in place."""
    import numpy as np

    groups = _linears(layers)[0][0].shape[0]
    acts = {"tanh": _tanh, "relu": _relu, "sigmoid": _sigmoid, "identity": None}

    def run(obs: Any) -> Any:
        obs = np.asarray(obs, dtype=np.float32)
        if obs.shape[0] != groups:
            raise ValueError(f"observations for {obs.shape[0]} policies; this forward has {groups}")
        lead = obs.shape[:-1]
        x = obs.reshape(groups, -1, obs.shape[-1])
        owned = False  # activations work in place, never on the caller's array
        with np.errstate(all="ignore"):  # overflow to inf is what torch gives too, silently
            for layer in layers:
                if isinstance(layer, tuple):
                    x = np.matmul(x, layer[0])
                    x += layer[1]
                    owned = True
                elif acts[layer] is not None:
                    x = acts[layer](x if owned else x.copy())
                    owned = True
        return x.reshape(*lead, x.shape[-1])

    return run


def _tanh(x: Any) -> Any:
    import numpy as np

    return np.tanh(x, out=x)


def _relu(x: Any) -> Any:
    import numpy as np

    return np.maximum(x, 0, out=x)


def _sigmoid(x: Any) -> Any:
    import numpy as np

    np.negative(x, out=x)
    np.exp(x, out=x)
    x += 1
    return np.reciprocal(x, out=x)


def _agrees(policies: list[Any], run: Callable[[Any], Any], width: int) -> bool:
    """Whether `run` matches every policy's own forward on random observations of all scales."""
    import numpy as np
    import torch

    rng = np.random.default_rng(0)
    scales = np.repeat([0.1, 1.0, 10.0, 100.0], PROBE_ROWS // 4)[:, None]
    probe = (rng.standard_normal((len(policies), PROBE_ROWS, width)) * scales).astype(np.float32)
    probe[:, 0] = 0.0
    with torch.no_grad():
        want = [p(torch.from_numpy(probe[g])).numpy() for g, p in enumerate(policies)]
    got = run(probe)
    return all(
        w.shape == got[g].shape and np.allclose(got[g], w, rtol=RTOL, atol=ATOL)
        for g, w in enumerate(want)
    )


# --- the torch paths ------------------------------------------------------------------


def _vmap_forward(policies: list[Any]) -> Callable[[Any], Any]:
    """Batch with vmap over the stacked parameters, as gym_run's _Forward does."""
    import copy

    import torch
    from torch.func import functional_call, stack_module_state, vmap

    params, buffers = stack_module_state(policies)
    base = copy.deepcopy(policies[0]).to("meta")

    def one(p: Any, b: Any, x: Any) -> Any:
        return functional_call(base, (p, b), (x,))

    batched = vmap(one)

    def run(obs: Any) -> Any:
        with torch.no_grad():
            return batched(params, buffers, _tensor(obs)).numpy()

    return run


def _loop_forward(policies: list[Any]) -> Callable[[Any], Any]:
    """Each policy's own forward on its observations, stacked."""
    import torch

    def run(obs: Any) -> Any:
        x = _tensor(obs)
        with torch.no_grad():
            return torch.stack([p(x[g]) for g, p in enumerate(policies)]).numpy()

    return run


def _tensor(obs: Any) -> Any:
    import numpy as np
    import torch

    return torch.from_numpy(np.ascontiguousarray(obs, dtype=np.float32))
