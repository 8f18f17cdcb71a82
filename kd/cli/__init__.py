"""The command line: `python -m kd <command>` (main), its argument checks, sweeps and the README report."""
