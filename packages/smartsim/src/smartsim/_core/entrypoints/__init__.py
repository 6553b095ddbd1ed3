"""Programs that smartsim launches (database shards, colocated databases)."""
