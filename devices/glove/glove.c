/* The glove driver table, opening and closing a glove, default config. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glove_drivers.h"

static const tp_glove_ops *const drivers[] = {&tp_glove_opengloves_ops};

const tp_glove_ops *tp_glove_find_driver(const char *name)
{
    for (size_t i = 0; i < sizeof drivers / sizeof drivers[0]; i++)
        if (name && strcmp(drivers[i]->name, name) == 0)
            return drivers[i];
    return NULL;
}

const char *tp_glove_driver_names(void) { return "opengloves"; }

void tp_glove_default_config(tp_glove_config *cfg, int side)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->side = side;
    cfg->name = side == TP_LEFT ? "left" : "right";
    cfg->driver = "opengloves";
    cfg->port = "/dev/ttyACM0";
    cfg->baud = 115200;
    cfg->max_value = 0;
    cfg->timeout_s = 0.1;
}

tp_glove *tp_glove_open(const tp_glove_config *cfg, char *err, size_t errlen)
{
    const char *name = cfg->name ? cfg->name : "?";
    const tp_glove_ops *ops = tp_glove_find_driver(cfg->driver);
    if (!ops) {
        snprintf(err, errlen, "glove %s: unknown driver '%s' (known: %s)", name, cfg->driver ? cfg->driver : "",
                 tp_glove_driver_names());
        return NULL;
    }
    if (!cfg->port || !cfg->port[0]) {
        snprintf(err, errlen, "glove %s: no port configured", name);
        return NULL;
    }
    tp_glove *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "glove %s: out of memory", name);
        return NULL;
    }
    g->ops = ops;
    g->cfg = *cfg;
    g->cfg.name = name;
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
