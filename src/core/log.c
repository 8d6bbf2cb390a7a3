/* teleop — stderr logging with a process-wide level. */
#include "teleop/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int log_level = -1;

static int level_from_env(void)
{
    const char *s = getenv("TELEOP_LOG");
    if (!s)
        return TP_LOG_WARN;
    if (!strcmp(s, "error"))
        return TP_LOG_ERROR;
    if (!strcmp(s, "info"))
        return TP_LOG_INFO;
    if (!strcmp(s, "debug"))
        return TP_LOG_DEBUG;
    return TP_LOG_WARN;
}

void tp_log_set_level(tp_log_level level) { atomic_store(&log_level, (int)level); }

tp_log_level tp_log_get_level(void)
{
    int l = atomic_load(&log_level);
    if (l < 0) {
        l = level_from_env();
        atomic_store(&log_level, l);
    }
    return (tp_log_level)l;
}

void tp_log(tp_log_level level, const char *fmt, ...)
{
    if (level > tp_log_get_level())
        return;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines from different threads whole. */
    fprintf(stderr, "teleop: %s: %s\n", names[level], line);
}
