/* The error formatter of errors.h. */
#include "errors.h"

#include <stdio.h>

char *ai_vformat_error(char *buf, size_t size, int all_controls, const char *fmt, va_list ap) {
    vsnprintf(buf, size, fmt, ap);
    /* A CR or LF would end the RESP error line (the servers map them too; this does not rely
     * on it); other control bytes of echoed client arguments garble logs. */
    for (char *p = buf; *p; p++)
        if (*p == '\n' || *p == '\r' ||
            (all_controls && ((unsigned char)*p < 0x20 || *p == 0x7f)))
            *p = ' ';
    return buf;
}

char *ai_format_error(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ai_vformat_error(buf, size, 1, fmt, ap);
    va_end(ap);
    return buf;
}
