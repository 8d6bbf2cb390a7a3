/* libFuzzer target: a station config through the real path a `teleop run
 * --config` takes before any session starts — parse (tp_config_parse, as
 * tp_config_load after its NUL check), validate and apply every section
 * through the key tables (tp_session_apply_config) — then the resolved
 * configuration written back and read again. Any input must be refused with
 * one line that holds no control bytes, or applied into a configuration
 * that round-trips exactly; no crash, no leak, no undefined behaviour. Run
 * with scripts/fuzz.sh config. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "teleop/session.h"
#include "teleop/station_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A refusal is one non-empty line with no raw control bytes. */
static void check_message(const char *err)
{
    if (!err[0])
        abort();
    for (const unsigned char *p = (const unsigned char *)err; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            abort();
}

static char *apply_and_write(const char *text, const char *name, tp_config **file)
{
    char err[2048] = "";
    tp_session_config cfg;
    tp_session_default_config(&cfg);
    *file = tp_config_parse(text, name, err, sizeof err);
    if (!*file) {
        check_message(err);
        return NULL;
    }
    if (tp_session_apply_config(&cfg, *file, err, sizeof err) != 0) {
        check_message(err);
        return NULL;
    }
    char *ini = tp_station_config_resolved_ini(&cfg);
    if (!ini)
        abort();
    return ini;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memchr(data, '\0', size))
        return 0; /* tp_config_load refuses NUL bytes before parsing */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    tp_config *first = NULL, *second = NULL;
    char *ini = apply_and_write(text, "fuzz.ini", &first);
    if (ini) {
        char *again = apply_and_write(ini, "resolved.ini", &second);
        if (!again || strcmp(ini, again) != 0)
            abort(); /* the resolved configuration must read back into itself */
        free(again);
        free(ini);
    }
    tp_config_free(second);
    tp_config_free(first);
    free(text);
    return 0;
}
