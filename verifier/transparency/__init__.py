"""The public transparency log (issue 22).

The service side: ``entries`` appends one entry per public decision in the decision's own
transaction; ``keys`` holds the log's own signing key; ``checkpointer`` hashes new entries and
signs checkpoints (compare-and-swap); ``witnesses`` asks witnesses to cosign; ``views`` serves
``/log/*`` and ``/api/v1/badges/<id>/log``. The outside parties: the witness (cosigns consistent
checkpoints) and the monitor. The Merkle, note and tile algorithms are :mod:`signer.tlog`'s.
"""
