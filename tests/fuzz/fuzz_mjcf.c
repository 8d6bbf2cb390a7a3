/* libFuzzer target: the MJCF loading path (MuJoCo's XML parser through an
 * in-memory file, then our serial-chain extraction between bodies and sites
 * the input may have declared). Any input must be refused with a message or
 * yield finite chains; no crash, no leak, no undefined behaviour in our code.
 * Run with scripts/fuzz.sh mjcf. */
#include <mujoco/mujoco.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"
#include "teleop/mjcf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mjVFS *vfs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 16)
        return 0;
    if (!vfs) {
        vfs = malloc(sizeof *vfs); /* ~2 MB of file-name table: allocate once */
        if (!vfs)
            abort();
        mj_defaultVFS(vfs);
    }
    if (mj_makeEmptyFileVFS(vfs, "fuzz.xml", (int)size + 1) != 0)
        abort();
    int idx = mj_findFileVFS(vfs, "fuzz.xml");
    memcpy(vfs->filedata[idx], data, size);
    ((char *)vfs->filedata[idx])[size] = '\0';
    char mj_err[1000] = "";
    mjModel *m = mj_loadXML("fuzz.xml", vfs, mj_err, sizeof mj_err);
    mj_deleteFileVFS(vfs, "fuzz.xml");
    if (!m)
        return 0;
    static const char *const names[] = {"world", "torso_link", "base", "a", "b", "c", "tip", "ee", "l0", "l1"};
    char err[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        for (size_t j = 0; j < sizeof names / sizeof names[0]; j++) {
            tp_chain c;
            err[0] = '\0';
            if (tp_mjcf_model_chain(m, "fuzz.xml", names[i], names[j], &c, err, sizeof err) == 0) {
                double q[TP_CHAIN_MAX_JOINTS];
                for (int k = 0; k < c.n; k++)
                    q[k] = 0.5 * (c.lower[k] + c.upper[k]);
                tp_pose p = tp_chain_fk(&c, q);
                if (!tp_v3_isfinite(p.p))
                    abort();
            } else if (!err[0] || strchr(err, '\n')) {
                abort(); /* every refusal is one non-empty line */
            }
        }
    mj_deleteModel(m);
    return 0;
}
