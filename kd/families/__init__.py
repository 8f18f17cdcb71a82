"""Model families: each a config dataclass and the module it builds; kd.models registers them by name."""
