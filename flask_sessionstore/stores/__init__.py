"""Session stores: the :class:`Store` contract and its implementations."""
