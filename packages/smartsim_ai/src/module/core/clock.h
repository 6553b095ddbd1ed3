/* The module's clock: milliseconds of CLOCK_MONOTONIC (queue deadlines, TIMEOUT, idle
 * reclaim, worker restart back-off).  Any thread. */
#ifndef SMARTSIM_AI_CLOCK_H
#define SMARTSIM_AI_CLOCK_H

long long ai_now_ms(void);

#endif
