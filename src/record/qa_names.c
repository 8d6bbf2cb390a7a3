/* teleop — QA flag names (include/teleop/qa.h). In the record module so
 * that `teleop check` validates meta qa_flags with the same table the QA
 * module writes it from. */
#include <stdio.h>
#include <string.h>

#include "teleop/qa.h"

static const char *const flag_names[TP_QA_FLAG_COUNT] = {
    "dropped_frames", "sync_skew",   "holds",    "safety",       "tracking_lost", "deadline_misses",
    "interrupted",    "too_short",   "too_long", "low_movement", "jerky",
};

const char *tp_qa_flag_name(unsigned single_flag)
{
    for (int i = 0; i < TP_QA_FLAG_COUNT; i++)
        if (single_flag == 1u << i)
            return flag_names[i];
    return NULL;
}

int tp_qa_parse_flags(const char *list, unsigned *flags, char *err, size_t errlen)
{
    *flags = 0;
    for (const char *p = list; *p;) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        int found = -1;
        for (int i = 0; i < TP_QA_FLAG_COUNT && found < 0; i++)
            if (strlen(flag_names[i]) == n && !strncmp(flag_names[i], p, n))
                found = i;
        if (found < 0) {
            snprintf(err, errlen, "unknown QA flag '%.*s'", (int)(n > 64 ? 64 : n), p);
            return -1;
        }
        *flags |= 1u << found;
        if (!comma)
            break;
        p = comma + 1;
        if (!*p) {
            snprintf(err, errlen, "unknown QA flag '' (a trailing comma)");
            return -1;
        }
    }
    return 0;
}

size_t tp_qa_format_flags(unsigned flags, char *out, size_t outlen)
{
    size_t len = 0;
    if (outlen)
        out[0] = '\0';
    for (int i = 0; i < TP_QA_FLAG_COUNT; i++) {
        if (!(flags & (1u << i)))
            continue;
        int n = snprintf(out + len, outlen > len ? outlen - len : 0, "%s%s", len ? "," : "", flag_names[i]);
        if (n > 0 && len + (size_t)n < outlen)
            len += (size_t)n;
        else
            break;
    }
    return len;
}
