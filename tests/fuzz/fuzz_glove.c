/* libFuzzer target: one glove line (tp_glove_parse_line) under each
 * max_value, and the feedback formatter on arbitrary floats. An accepted
 * line must hold all five curls within its max_value, a rejected one a
 * known reason and a message; nothing may read past the line. scripts/fuzz.sh
 * glove runs it; the corpus (tests/fuzz/corpus-glove) is replayed in the
 * glove suite. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/glove.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *line, size_t size, int32_t max_value)
{
    tp_glove_sample s;
    tp_glove_reject why = TP_GLOVE_REJECT_COUNT;
    char msg[128];
    if (tp_glove_parse_line(line, size, max_value, &s, &why, msg, sizeof msg) == 0) {
        if (s.max_value != 1023 && s.max_value != 4095)
            abort();
        if (max_value && s.max_value != max_value)
            abort();
        for (int f = 0; f < TP_GLOVE_FINGERS; f++) {
            if (s.curl[f] < 0 || s.curl[f] > s.max_value || s.splay[f] > s.max_value)
                abort();
            for (int j = 0; j < TP_GLOVE_FINGER_JOINTS; j++)
                if (s.joint_curl[f][j] > s.max_value)
                    abort();
        }
        if (s.joystick[0] > s.max_value || s.joystick[1] > s.max_value || s.trigger > s.max_value ||
            s.buttons > 0xffu)
            abort();
    } else if (why >= TP_GLOVE_REJECT_COUNT || !msg[0] || strlen(msg) >= sizeof msg) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size ? size : 1); /* exactly size bytes: an overread is caught */
    if (!line)
        return 0;
    memcpy(line, data, size);
    check(line, size, 0);
    check(line, size, 1023);
    check(line, size, 4095);
    if (size >= sizeof(float) * TP_GLOVE_FINGERS) {
        float force[TP_GLOVE_FINGERS];
        memcpy(force, data, sizeof force);
        char buf[64];
        int n = tp_glove_format_feedback(force, buf, sizeof buf);
        if (n < 0 || (size_t)n != strlen(buf) || buf[n - 1] != '\n')
            abort();
    }
    free(line);
    return 0;
}
