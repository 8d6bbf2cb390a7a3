/* teleop — which episodes an export takes: the EPISODE...|DIR... arguments
 * expanded (a folder's *.db in name order) and the selection on each
 * episode's meta (outcome, task, operator, start date, duration, tags).
 * The same rules as `teleop export --format lerobot` (docs/export.md). */
#ifndef TELEOP_EXPORT_SELECT_H
#define TELEOP_EXPORT_SELECT_H

#include <stdbool.h>
#include <stdint.h>

#include "teleop/export.h"

typedef struct tp_export_selection {
    const char *outcome;       /* comma-separated list, or NULL */
    const char *task;          /* substring, or NULL */
    const char *operator_name; /* exact, or NULL */
    bool have_since, have_until;
    int64_t since_ns, until_ns; /* Unix ns */
    double min_duration, max_duration; /* 0: no bound */
    const char *tags[16];      /* every one of them */
    int n_tags;
} tp_export_selection;

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC) to Unix ns; a date alone as an
 * upper bound means the end of that day. 0 or -1. */
int tp_export_parse_date(const char *s, bool until, int64_t *out);

bool tp_export_selected(const tp_export_selection *s, const tp_export_episode *meta);

/* Expands args into malloc'd paths (*paths owned by the caller: free each and
 * the array). 0, or -1 with one line naming the argument. */
int tp_export_collect(char **args, int nargs, char ***paths, int *n, char *err, size_t errlen);

#endif
