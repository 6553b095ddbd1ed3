# The original RedisAI 1.2.7 (CPU) for side-by-side comparisons and for running our integration
# tests against it: SMARTSIM_TEST_SERVER_ADDRESS=127.0.0.1:6380 (see integration_tests/README.md).
#   docker build -f docker/redisai-original.Dockerfile -t redisai-original docker/
#   docker run -p 6380:6379 redisai-original
FROM redislabs/redisai:1.2.7-cpu-bionic
EXPOSE 6379
