/* teleop config — the resolved station configuration, and the key tables of
 * docs/configuration.md. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "teleop/station_config.h"

static void config_help(void)
{
    printf("usage: teleop config [--config FILE]\n"
           "       teleop config --doc-keys\n"
           "\n"
           "Prints the configuration a session would run with: every key of every section with its\n"
           "effective value (defaults applied, bundled files resolved), as a station file that reads\n"
           "back into the same configuration. Errors in FILE are reported as 'teleop run' would.\n"
           "\n"
           "  --config FILE   station config (docs/configuration.md)\n"
           "  --doc-keys      print the key tables of docs/configuration.md (markdown)\n");
}

int cmd_config(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"doc-keys", no_argument, NULL, 'D'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    bool doc = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'D': doc = true; break;
        case 'h': config_help(); return 0;
        case ':': return cli_usage_error("config", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("config", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("config", "unexpected argument '%s'", argv[optind]);
    if (doc) {
        if (config_path)
            return cli_usage_error("config", "--doc-keys takes no --config");
        tp_station_config_doc(stdout);
        return fflush(stdout) == 0 ? 0 : 1;
    }
    tp_session_config cfg;
    tp_config *file = NULL;
    if (cli_session_config("config", config_path, &cfg, &file) != 0)
        return 1;
    char err[1024];
    static char model_buf[4096], motion_buf[4096];
    if (tp_session_resolve_paths(&cfg, model_buf, motion_buf, sizeof model_buf, err, sizeof err) != 0 ||
        tp_station_config_check_files(&cfg, file, err, sizeof err) != 0) {
        fprintf(stderr, "teleop config: %s\n", err);
        tp_config_free(file);
        return 1;
    }
    char *text = tp_station_config_resolved_ini(&cfg);
    tp_config_free(file);
    if (!text) {
        fprintf(stderr, "teleop config: out of memory\n");
        return 1;
    }
    fputs(text, stdout);
    free(text);
    return fflush(stdout) == 0 ? 0 : 1;
}
