/* teleop — CLI subcommands. Each returns the process exit code: 0 success,
 * 1 failure, 2 usage error. argv[0] is the subcommand name. */
#ifndef TELEOP_CLI_H
#define TELEOP_CLI_H

#include <stdio.h>

#include "teleop/session.h"

int cmd_run(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_calibrate_glove(int argc, char **argv); /* teleop calibrate --glove */
int cmd_retarget(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_xr_probe(int argc, char **argv);
int cmd_config(int argc, char **argv);
/* teleop export --check (cmd_export_check.c) */
bool cmd_export_is_check(int argc, char **argv);
int cmd_export_check(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_catalog(int argc, char **argv);
int cmd_review(int argc, char **argv); /* cmd_review.c: the review app (ui/) */
int cmd_catalog_s3(int argc, char **argv); /* teleop catalog s3://… (cmd_catalog_s3.c) */
int cmd_upload(int argc, char **argv);
/* teleop catalog's output (cmd_catalog.c), for a listing from any source. */
struct tp_catalog_listing;
void catalog_print_table(FILE *out, const struct tp_catalog_listing *l);
int catalog_print_json(FILE *out, const struct tp_catalog_listing *l); /* 0, or -1 out of memory */
/* The listing options both teleop catalog forms take (a folder's index, a
 * bucket's catalog): their getopt values and long options, and the parser
 * that fills a query from one of them (cmd_catalog.c). */
enum {
    CATALOG_OPT_SORT = 256, CATALOG_OPT_DESC, CATALOG_OPT_SEARCH, CATALOG_OPT_OUTCOME, CATALOG_OPT_VERDICT,
    CATALOG_OPT_OPERATOR, CATALOG_OPT_TAG, CATALOG_OPT_QA, CATALOG_OPT_RATING, CATALOG_OPT_DELETED,
    CATALOG_OPT_JSON, CATALOG_OPT_STATS, CATALOG_OPT_NEXT /* first value free for a command's own options */
};
#define CATALOG_QUERY_LONG_OPTIONS                                                                                    \
    {"sort", required_argument, NULL, CATALOG_OPT_SORT}, {"desc", no_argument, NULL, CATALOG_OPT_DESC},              \
        {"search", required_argument, NULL, CATALOG_OPT_SEARCH},                                                     \
        {"outcome", required_argument, NULL, CATALOG_OPT_OUTCOME},                                                   \
        {"verdict", required_argument, NULL, CATALOG_OPT_VERDICT},                                                   \
        {"operator", required_argument, NULL, CATALOG_OPT_OPERATOR},                                                 \
        {"tag", required_argument, NULL, CATALOG_OPT_TAG}, {"qa-flag", required_argument, NULL, CATALOG_OPT_QA},     \
        {"min-rating", required_argument, NULL, CATALOG_OPT_RATING},                                                 \
        {"include-deleted", no_argument, NULL, CATALOG_OPT_DELETED}, {"json", no_argument, NULL, CATALOG_OPT_JSON}, \
        {"stats", no_argument, NULL, CATALOG_OPT_STATS}
struct tp_catalog_query;
/* 1: opt was a query option and q has it; 0: not one of them; 2: a usage
 * error, printed. */
int catalog_query_option(int opt, const char *arg, struct tp_catalog_query *q);
int cmd_qa(int argc, char **argv);
int cmd_sim(int argc, char **argv); /* teleop sim --dds (cmd_sim.c) */

/* Default session config, with the station file at path applied (NULL:
 * none). On error prints "teleop SUB: message" and returns -1; on success
 * *file is the loaded config (owned by the caller; the session config
 * borrows its strings). */
int cli_session_config(const char *sub, const char *path, tp_session_config *cfg, tp_config **file);

/* Prints "teleop SUB: msg" on stderr and returns 2. */
int cli_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
