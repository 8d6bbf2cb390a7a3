/* teleop retarget — re-run retargeting on a recorded episode. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "teleop/config.h"
#include "teleop/offline.h"

int cmd_retarget(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *out = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'o': out = optarg; break;
        case 'h':
            printf("usage: teleop retarget EPISODE [--config FILE] -o NEW_EPISODE\n\n"
                   "Re-runs the control path (calibration, filters, IK, hand mapping, safety) on the\n"
                   "episode's recorded operator stream with the station config FILE (another calibration,\n"
                   "other parameters, another robot model), simulated in episode time, and writes\n"
                   "NEW_EPISODE with the same video and operator stream and new state, action and events.\n");
            return 0;
        case ':': return cli_usage_error("retarget", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("retarget", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1)
        return cli_usage_error("retarget", argc - optind < 1 ? "missing EPISODE" : "expected one EPISODE");
    if (!out)
        return cli_usage_error("retarget", "-o NEW_EPISODE is required");
    char err[1024];
    tp_session_config cfg;
    tp_config *file = NULL;
    if (cli_session_config("retarget", config_path, &cfg, &file) != 0)
        return 1;
    static char model[4096], motion[4096];
    tp_offline_stats st;
    int rc = tp_session_resolve_paths(&cfg, model, motion, sizeof model, err, sizeof err);
    if (rc == 0)
        rc = tp_offline_retarget(argv[optind], &cfg, out, &st, err, sizeof err);
    tp_config_free(file);
    if (rc != 0) {
        fprintf(stderr, "teleop retarget: %s\n", err);
        return 1;
    }
    printf("episode: %s\n", out);
    printf("%lld operator frames retargeted in %lld control cycles; %lld video packets copied\n",
           st.operator_frames, st.control_cycles, st.packets);
    return 0;
}
