"""The transparency log's outside parties: the witness (cosigns consistent checkpoints) and the monitor."""
