/* teleop export: recorded episodes to a training dataset (src/export/export_run.c;
 * --format hdf5: src/export/hdf5_export.c). */
#include "cli.h"
#include "teleop/export_hdf5.h"
#include "teleop/export_run.h"

int cmd_export(int argc, char **argv)
{
    if (cmd_export_is_check(argc, argv)) /* teleop export --check DATASET */
        return cmd_export_check(argc, argv);
    if (tp_export_hdf5_requested(argc, argv))
        return tp_export_hdf5_main(argc, argv);
    return tp_export_main(argc, argv);
}
