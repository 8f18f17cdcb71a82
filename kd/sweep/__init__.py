"""Sweeps over temperature x alpha x budget x seed: cells, their Ray backend, result files and statistics."""
