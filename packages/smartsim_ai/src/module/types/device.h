/* The device strings RedisAI accepts for a model or a script. */
#ifndef SMARTSIM_AI_DEVICE_H
#define SMARTSIM_AI_DEVICE_H

/* Whether `device` is CPU, GPU, CPU:<digits> or GPU:<digits> (any case, fewer than 10
 * characters).  MODELSTORE's "Invalid DEVICE" test, and the "unsupported device" refusal of
 * the other stores before any queue or worker exists for the device.  RedisAI 1.2.7 checked
 * digits from the 6th character on and took any device starting with "CPU" as the CPU; the
 * devices it took that this one refuses are listed in docs/engine.md. */
int ai_device_is_valid(const char *device);

#endif
