/* Device strings (device.h).  Pure: no module calls. */
#include "device.h"

#include <string.h>
#include <strings.h>

int ai_device_is_valid(const char *dev) {
    size_t len = strlen(dev);
    if (strcasecmp(dev, "CPU") == 0 || strcasecmp(dev, "GPU") == 0) return 1;
    if (len >= 10 || len < 4) return 0;
    if (strncasecmp(dev, "CPU:", 4) != 0 && strncasecmp(dev, "GPU:", 4) != 0) return 0;
    for (size_t i = 4; i < len; i++)
        if (dev[i] < '0' || dev[i] > '9') return 0;
    return 1;
}
