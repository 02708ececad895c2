"""Acceptance beyond the noise, and a run's settings from a target file."""

from __future__ import annotations

import re

import numpy as np
import pytest

from policies.neuro import ConfigError, EvolutionConfig, compare

RNG = np.random.default_rng(0)


def test_a_real_gain_is_accepted():
    incumbent = RNG.normal(400, 30, 100)
    verdict = compare(incumbent + 40 + RNG.normal(0, 5, 100), incumbent, margin=5)
    assert verdict.accepted and verdict.lower_bound > 5


def test_a_gain_within_the_noise_is_refused():
    incumbent = RNG.normal(400, 30, 40)
    verdict = compare(RNG.normal(405, 30, 40), RNG.normal(400, 30, 40), margin=0)
    assert not verdict.accepted
    assert not compare(incumbent, incumbent).accepted  # no better is not better


def test_too_few_episodes_are_refused():
    verdict = compare(np.full(10, 500.0))
    assert not verdict.accepted and "need 30" in verdict.reason


def test_first_weights_must_reach_the_threshold():
    assert compare(np.full(100, 500.0), threshold=475).accepted
    assert not compare(np.full(100, 300.0), threshold=475).accepted


def test_settings_parse_with_structure():
    config = EvolutionConfig.parse(
        {"method": "gaussian", "population": 16, "structure": {"add_neuron": 0.1}}
    )
    assert config.structure.add_neuron == 0.1
    assert config.budget().generations == 50


def test_an_unknown_setting_is_refused_with_a_suggestion():
    with pytest.raises(ConfigError, match=re.escape("did you mean 'population'?")):
        EvolutionConfig.parse({"populaton": 16})


def test_an_unknown_method_names_the_field():
    with pytest.raises(ConfigError, match=re.escape("evolution setting 'method'")):
        EvolutionConfig.parse({"method": "nes"})
