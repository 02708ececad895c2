"""pilot: a hand-written controller for gymnasium's LunarLander-v3.

* :mod:`pilot.controller` - ``act(observation) -> int``, one discrete action per step.
"""

from pilot.controller import act

__all__ = ["act"]

__version__ = "0.3.0"
