"""Neuroevolution of weights targets: genomes that carry their own mutators.

- `network`: the policy's shape (an MLP) and structural growth and pruning;
- `genome`: policy, mutator and compatibility weights, saved bit-exactly;
- `weights`: the named weights file a target commits;
- `mutator`, `dualmixture`: plain Gaussian mutation and the self-referential DualMixture;
- `speciation`, `structure`: learned speciation and structural edits, options of a run;
- `strategy`, `es`, `cmaes`: the genetic algorithm, OpenAI-ES and CMA-ES behind one interface;
- `evolve`, `checkpoint`, `curve`, `progress`: the loop, its checkpoints, curve and bar;
- `accept`: held-out comparison with the committed weights; `config`: a run's settings.
"""

from policies.errors import ConfigError, Error, StructureError, WeightsFileError

from .accept import Verdict, compare
from .cmaes import CMAES, CMAOptions
from .config import EvolutionConfig
from .dualmixture import DualMixture
from .es import ESOptions, OpenAIES
from .evolve import Budget, GenerationRecord, RunResult, evolve, holdout_seeds
from .genome import Genome
from .mutator import GaussianMutator, Mutator
from .network import MLPSpec
from .strategy import GAOptions, GeneticStrategy, Strategy
from .structure import StructureOptions
from .weights import WeightsFile, load_weights, save_weights

__all__ = [
    "CMAES",
    "Budget",
    "CMAOptions",
    "ConfigError",
    "DualMixture",
    "ESOptions",
    "Error",
    "EvolutionConfig",
    "GAOptions",
    "GaussianMutator",
    "GenerationRecord",
    "GeneticStrategy",
    "Genome",
    "MLPSpec",
    "Mutator",
    "OpenAIES",
    "RunResult",
    "Strategy",
    "StructureError",
    "StructureOptions",
    "Verdict",
    "WeightsFile",
    "WeightsFileError",
    "compare",
    "evolve",
    "holdout_seeds",
    "load_weights",
    "save_weights",
]
