"""Published experiments reproduced with the project's own training path (kd.pipeline)."""
