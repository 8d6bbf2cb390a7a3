/* teleop — the hand an OpenGloves info key names. Apart from the probe,
 * which needs the glove parser, so the hand alone is tested without it. */
#include <string.h>

#include "teleop/usb.h"

const char *tp_usb_glove_hand_of_line(const char *line, size_t len)
{
    for (size_t i = 0; i + 4 < len; i++) {
        if (memcmp(line + i, "(ZH)", 4) != 0)
            continue;
        char c = line[i + 4];
        if (c == 'L' || c == 'l')
            return "left";
        if (c == 'R' || c == 'r')
            return "right";
    }
    return NULL;
}
