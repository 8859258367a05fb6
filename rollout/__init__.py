"""The rollout of the configuration-driven entry UI: the only code that knows there are two."""
