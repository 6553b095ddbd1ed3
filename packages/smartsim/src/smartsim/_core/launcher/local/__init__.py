"""The local launcher: entities run as child processes of the driver."""
