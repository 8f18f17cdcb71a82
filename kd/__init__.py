"""KD Lab core: data, models, distillation loss, training, evaluation, benchmarks, checkpoints."""

__version__ = "0.1.0"
