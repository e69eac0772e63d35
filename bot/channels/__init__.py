"""The channels through which companies reach the assistant (see `registry.py`)."""
