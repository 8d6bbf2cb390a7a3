/* teleop — which episodes an export takes: the EPISODE...|DIR... arguments
 * expanded (a folder's *.db in name order) and the selection on each
 * episode's meta (outcome, task, operator, start date, duration, tags,
 * review verdict and rating, QA flags, deletion marks).
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
    /* review and QA (docs/export.md, Selection) */
    bool qa_clean;             /* QA computed and no flag */
    unsigned qa_with, qa_without; /* QA flags every selected episode has / none has */
    const char *verdict;       /* "success" or "failure", or NULL */
    int min_rating;            /* 1..5; 0: any */
    bool include_deleted;      /* else episodes marked for deletion are skipped */
} tp_export_selection;

/* The review and QA selection options, shared by every export format: put
 * TP_EXPORT_SELECT_LONGOPTS in the getopt_long table and hand every option
 * code to tp_export_select_option. */
enum {
    TP_SEL_OPT_QA_CLEAN = 0x1000,
    TP_SEL_OPT_QA_FLAG,
    TP_SEL_OPT_NO_QA_FLAG,
    TP_SEL_OPT_VERDICT,
    TP_SEL_OPT_MIN_RATING,
    TP_SEL_OPT_INCLUDE_DELETED,
};
#define TP_EXPORT_SELECT_LONGOPTS                                                                                  \
    {"qa-clean", no_argument, NULL, TP_SEL_OPT_QA_CLEAN}, {"qa-flag", required_argument, NULL, TP_SEL_OPT_QA_FLAG}, \
        {"no-qa-flag", required_argument, NULL, TP_SEL_OPT_NO_QA_FLAG},                                            \
        {"verdict", required_argument, NULL, TP_SEL_OPT_VERDICT},                                                  \
        {"min-rating", required_argument, NULL, TP_SEL_OPT_MIN_RATING},                                            \
        {"include-deleted", no_argument, NULL, TP_SEL_OPT_INCLUDE_DELETED}
#define TP_EXPORT_SELECT_USAGE                                                                                     \
    "  --qa-clean                  only episodes whose QA flags were computed and are none\n"                     \
    "  --qa-flag NAME              only episodes with this QA flag (repeatable: all of them)\n"                   \
    "  --no-qa-flag NAME           no episode with this QA flag (repeatable)\n"                                   \
    "  --verdict success|failure   only episodes reviewed with this verdict\n"                                    \
    "  --min-rating N              only episodes rated N (1-5) or more\n"                                         \
    "  --include-deleted           also episodes marked for deletion (skipped by default)\n"
/* 1: code was one of the options above and is applied; 0: not one of them;
 * -1: a bad argument, with one line in err. */
int tp_export_select_option(tp_export_selection *s, int code, const char *arg, char *err, size_t errlen);

/* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS (UTC) to Unix ns; a date alone as an
 * upper bound means the end of that day. 0 or -1. */
int tp_export_parse_date(const char *s, bool until, int64_t *out);

bool tp_export_selected(const tp_export_selection *s, const tp_export_episode *meta);

/* Expands args into malloc'd paths (*paths owned by the caller: free each and
 * the array). 0, or -1 with one line naming the argument. */
int tp_export_collect(char **args, int nargs, char ***paths, int *n, char *err, size_t errlen);

#endif
