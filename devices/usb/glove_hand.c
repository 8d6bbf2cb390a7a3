/* teleop — the hand an OpenGloves info key names. Apart from the probe,
 * which needs the glove parser, so the hand alone is tested without it. */
#include <stdbool.h>
#include <string.h>

#include "teleop/usb.h"

const char *tp_usb_glove_hand_of_line(const char *line, size_t len)
{
    for (size_t i = 0; i + 4 < len; i++) {
        if (memcmp(line + i, "(ZH)", 4) != 0)
            continue;
        /* A number, as the firmware's info line "(ZV)n(ZG)n(ZH)n" sends it:
         * its hand side, 0 left, 1 right. */
        char c = line[i + 4];
        bool one_digit = i + 5 == len || line[i + 5] < '0' || line[i + 5] > '9';
        if (c == '0' && one_digit)
            return "left";
        if (c == '1' && one_digit)
            return "right";
    }
    return NULL;
}
