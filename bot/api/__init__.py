"""The joint rewards-and-punishments port (联合奖惩应用端口): an HTTP API for department systems."""
