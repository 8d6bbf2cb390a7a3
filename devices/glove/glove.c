/* teleop — the glove driver table and the open/close every glove thread uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glove_drivers.h"

static const tp_glove_ops *const drivers[] = {&tp_glove_opengloves_driver};

const tp_glove_ops *tp_glove_find_driver(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (name && !strcmp(drivers[i]->name, name))
            return drivers[i];
    return NULL;
}

const char *tp_glove_driver_names(void) { return "opengloves"; }

void tp_glove_default_config(tp_glove_config *cfg, int side)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->side = side;
    cfg->name = side == TP_RIGHT ? "right" : "left";
    cfg->driver = "opengloves";
    cfg->baud = 115200;
    cfg->max_value = 0;
    cfg->timeout_s = 0.1;
}

tp_glove *tp_glove_open(const tp_glove_config *cfg, char *err, size_t errlen)
{
    const tp_glove_ops *ops = tp_glove_find_driver(cfg->driver);
    if (!ops) {
        snprintf(err, errlen, "glove %s: unknown driver '%s' (drivers: %s)", cfg->name ? cfg->name : "?",
                 cfg->driver ? cfg->driver : "", tp_glove_driver_names());
        return NULL;
    }
    if (!cfg->port || !cfg->port[0]) {
        snprintf(err, errlen, "glove %s: no port given (the glove's tty, e.g. /dev/ttyACM0; `teleop devices` "
                 "lists serial ports)", cfg->name ? cfg->name : "?");
        return NULL;
    }
    if (cfg->max_value != 0 && cfg->max_value != 1023 && cfg->max_value != 4095) {
        snprintf(err, errlen, "glove %s: max_value %d is not 0 (learn), 1023 or 4095", cfg->name,
                 (int)cfg->max_value);
        return NULL;
    }
    tp_glove *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "glove %s: out of memory", cfg->name);
        return NULL;
    }
    g->ops = ops;
    g->cfg = *cfg;
    if (ops->open(g, err, errlen) != 0) {
        free(g);
        return NULL;
    }
    return g;
}

void tp_glove_close(tp_glove *g)
{
    if (!g)
        return;
    g->ops->close(g);
    free(g);
}
