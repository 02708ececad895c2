"""A hand-written pilot for gymnasium's ``LunarLander-v3`` (discrete actions).

The observation holds eight numbers: the position ``x, y`` (the pad is at ``0, 0``), the
velocity ``vx, vy``, the tilt ``angle`` (radians, positive when turned counter-clockwise),
its rate ``spin``, and one flag per leg that touches the ground.

The pilot runs two small loops, the descent first:

* descent: it allows a sink speed that shrinks as the ground gets closer (and stays up
  while it is still off to the side of the pad), and fires the main engine whenever it
  falls faster than that;
* steering: otherwise it picks a lean that carries it towards the pad and against its
  sideways drift, and turns towards that lean with the side thrusters.

Once a leg touches it stops steering, brakes only a hard fall, and keeps level.

The constants as shipped are deliberately detuned (see README.md): Neuromutant tunes them.
"""

from __future__ import annotations

from collections.abc import Sequence

COAST = 0
TURN_LEFT = 1  # the left orientation engine: turns counter-clockwise, the angle grows
MAIN_ENGINE = 2
TURN_RIGHT = 3  # the right orientation engine: turns clockwise, the angle shrinks

# Steering: the lean wanted (radians) per unit of offset from the pad and of sideways speed.
LEAN_PER_OFFSET = 0.6
LEAN_PER_DRIFT = 1.2
MAX_LEAN = 0.35
# Attitude: the turn wanted per radian of lean error, less this much per unit of spin.
TURN_GAIN = 1.0
SPIN_DAMPING = 0.8
TURN_DEADBAND = 0.1
# Descent: the sink speed allowed per unit of height, and at the surface.
SINK_PER_HEIGHT = 4.0
TOUCHDOWN_SINK = 0.17
# How much height the pilot keeps per unit of sideways offset from the pad.
HOLD_PER_OFFSET = 0.5
# The main engine fires once the lander falls this much faster than allowed.
BRAKE_MARGIN = 0.05
# With a leg down: brake only a fall faster than this, and level only a tilt beyond this.
LANDED_SINK = 0.0
LEVEL_TOLERANCE = 0.2


def act(observation: Sequence[float]) -> int:
    """The action for one observation: 0 coast, 1 turn left, 2 main engine, 3 turn right."""
    x, y, vx, vy, angle, spin, left_leg, right_leg = (float(v) for v in observation)
    if left_leg or right_leg:
        return _settle(vy, angle)
    height = y - HOLD_PER_OFFSET * abs(x)
    allowed_sink = SINK_PER_HEIGHT * max(height, 0.0) + TOUCHDOWN_SINK
    if -vy - allowed_sink > BRAKE_MARGIN:
        return MAIN_ENGINE
    lean = _clamp(LEAN_PER_OFFSET * x + LEAN_PER_DRIFT * vx, MAX_LEAN)
    turn = TURN_GAIN * (lean - angle) - SPIN_DAMPING * spin
    if turn > TURN_DEADBAND:
        return TURN_LEFT
    if turn < -TURN_DEADBAND:
        return TURN_RIGHT
    return COAST


def _settle(vy: float, angle: float) -> int:
    """With a leg down: brake a hard fall, keep level, and otherwise let the lander rest."""
    if -vy > LANDED_SINK:
        return MAIN_ENGINE
    if angle > LEVEL_TOLERANCE:
        return TURN_RIGHT
    if angle < -LEVEL_TOLERANCE:
        return TURN_LEFT
    return COAST


def _clamp(value: float, limit: float) -> float:
    """`value` kept within ``[-limit, limit]``."""
    return max(-limit, min(limit, value))
