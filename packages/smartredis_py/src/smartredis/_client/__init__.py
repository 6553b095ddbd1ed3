"""The parts of :class:`smartredis.Client`, one mixin per family of operations."""
