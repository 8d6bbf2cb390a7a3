/* teleop export: recorded episodes to a training dataset (src/export/export_run.c;
 * --format hdf5: src/export/hdf5_export.c). s3:// sources are downloaded
 * to a cache and verified against their bucket catalog entries first
 * (docs/upload.md, "Bucket catalog"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/bucket_catalog.h"
#include "teleop/export_hdf5.h"
#include "teleop/export_run.h"
#include "teleop/s3.h"

static int export_local(int argc, char **argv)
{
    if (tp_export_hdf5_requested(argc, argv))
        return tp_export_hdf5_main(argc, argv);
    return tp_export_main(argc, argv);
}

/* The value of --NAME VALUE or --NAME=VALUE at argv[*i] (then *i moves
 * past it); NULL when argv[*i] is not that option. */
static const char *take_option(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, "--", 2) || strncmp(a + 2, name, n))
        return NULL;
    if (a[2 + n] == '=')
        return a + 3 + n;
    if (a[2 + n])
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

static void default_cache(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && *xdg)
        snprintf(out, len, "%s/teleop/s3", xdg);
    else if (home && *home)
        snprintf(out, len, "%s/.cache/teleop/s3", home);
    else
        snprintf(out, len, ".teleop-s3-cache");
}

int cmd_export(int argc, char **argv)
{
    if (cmd_export_is_check(argc, argv)) /* teleop export --check DATASET */
        return cmd_export_check(argc, argv);
    bool any = false;
    for (int i = 1; i < argc; i++)
        any |= !strncmp(argv[i], "s3://", 5);
    if (!any)
        return export_local(argc, argv);

    const char *endpoint = NULL, *region = NULL, *ca = NULL, *cache = NULL;
    char **args = calloc((size_t)argc + 1, sizeof *args);
    char **owned = NULL;
    int nargs = 0, nowned = 0, rc = 1;
    tp_s3 *s3 = NULL;
    if (!args)
        return 1;
    /* the s3 options first (they are not the export's) */
    for (int i = 0; i < argc; i++) {
        bool missing = false;
        const char *v;
        if (i > 0 && (v = take_option(argc, argv, &i, "endpoint", &missing)))
            endpoint = v;
        else if (i > 0 && (v = take_option(argc, argv, &i, "region", &missing)))
            region = v;
        else if (i > 0 && (v = take_option(argc, argv, &i, "ca-bundle", &missing)))
            ca = v;
        else if (i > 0 && (v = take_option(argc, argv, &i, "cache", &missing)))
            cache = v;
        else if (missing) {
            free(args);
            return cli_usage_error("export", "option '%s' needs a value", argv[i]);
        } else
            args[nargs++] = argv[i];
    }
    char cache_dir[4096];
    if (cache)
        snprintf(cache_dir, sizeof cache_dir, "%s", cache);
    else
        default_cache(cache_dir, sizeof cache_dir);
    if (!endpoint)
        endpoint = getenv("AWS_ENDPOINT_URL_S3") ? getenv("AWS_ENDPOINT_URL_S3") : getenv("AWS_ENDPOINT_URL");
    tp_s3_config sc = {.endpoint = endpoint, .region = region, .ca_bundle = ca};
    tp_s3_error e = {0};
    s3 = tp_s3_open(&sc, &e);
    if (!s3) {
        fprintf(stderr, "teleop export: %s\n", e.message);
        goto out;
    }
    /* each s3:// source becomes its verified local files, in place */
    char **expanded = NULL;
    int nexp = 0;
    for (int i = 0; i < nargs; i++) {
        char **paths = NULL;
        int np = 0;
        bool s3src = !strncmp(args[i], "s3://", 5);
        if (s3src && tp_bcat_fetch(s3, args[i], cache_dir, &paths, &np, &e)) {
            fprintf(stderr, "teleop export: %s\n", e.message);
            free(expanded);
            goto out;
        }
        char **ne = realloc(expanded, sizeof *ne * (size_t)(nexp + (s3src ? np : 1) + 1));
        char **no = realloc(owned, sizeof *no * (size_t)(nowned + np + 1));
        if (ne)
            expanded = ne;
        if (no)
            owned = no;
        if (!ne || !no) {
            for (int k = 0; k < np; k++)
                free(paths[k]);
            free(paths);
            free(expanded);
            fprintf(stderr, "teleop export: out of memory\n");
            goto out;
        }
        if (s3src) {
            for (int k = 0; k < np; k++)
                expanded[nexp++] = owned[nowned++] = paths[k];
            fprintf(stderr, "teleop export: %s: %d episode(s) verified in %s\n", args[i], np, cache_dir);
        } else {
            expanded[nexp++] = args[i];
        }
        free(paths);
    }
    expanded[nexp] = NULL;
    tp_s3_close(s3);
    s3 = NULL;
    rc = export_local(nexp, expanded);
    free(expanded);
out:
    tp_s3_close(s3);
    for (int k = 0; k < nowned; k++)
        free(owned[k]);
    free(owned);
    free(args);
    return rc;
}
