"""Pure functions for SmartRedis's wire format: no sockets, no server.

``keys``      key names and ensemble prefixes
``tensor``    numpy <-> RedisAI tensor bytes and dtype mapping
``metadata``  the byte encoding of dataset metadata fields
``cluster``   CRC16 slots and the per-shard model prefix
``address``   SSDB address grammar
``info``      parsing of INFO / CLUSTER INFO / AI.INFO replies
"""
