/* teleop export: recorded episodes to a training dataset (src/export/export_run.c). */
#include "cli.h"
#include "teleop/export_run.h"

int cmd_export(int argc, char **argv)
{
    if (cmd_export_is_check(argc, argv)) /* teleop export --check DATASET */
        return cmd_export_check(argc, argv);
    return tp_export_main(argc, argv);
}
