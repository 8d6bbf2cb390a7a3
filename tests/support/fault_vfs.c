/* Test support: fault-injecting SQLite VFS over "unix" (see fault_vfs.h). */
#include "fault_vfs.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

typedef struct fault_file {
    sqlite3_file base; /* pMethods = our methods */
    sqlite3_file *real;
} fault_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static sqlite3_io_methods fault_methods;
static atomic_int armed_kind;
static atomic_bool armed_torn;
static atomic_long budget; /* successful operations left before the fault */
static atomic_long writes, syncs, fired;
static atomic_long sync_delay_ms;
static atomic_long fire_limit; /* faults before the disk recovers; 0: persists */

/* 0: go ahead; otherwise the error to return. */
static int take(fault_kind for_kind)
{
    if (atomic_load(&armed_kind) != (int)for_kind)
        return 0;
    if (atomic_fetch_sub(&budget, 1) > 0)
        return 0;
    atomic_store(&budget, 0);
    long n = atomic_fetch_add(&fired, 1) + 1;
    long limit = atomic_load(&fire_limit);
    if (limit > 0 && n >= limit)
        atomic_store(&armed_kind, FAULT_NONE); /* a transient fault: this was the last */
    return for_kind == FAULT_FSYNC ? SQLITE_IOERR_FSYNC : for_kind == FAULT_FULL ? SQLITE_FULL : SQLITE_IOERR_WRITE;
}

#define REAL(f) (((fault_file *)(f))->real)

static int f_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods ? REAL(f)->pMethods->xClose(REAL(f)) : SQLITE_OK;
    return rc;
}
static int f_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}
static int f_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    int kind = atomic_load(&armed_kind);
    int err = kind == FAULT_FULL || kind == FAULT_IOERR_WRITE ? take((fault_kind)kind) : 0;
    if (err) {
        if (atomic_load(&armed_torn) && n > 1)
            REAL(f)->pMethods->xWrite(REAL(f), buf, n / 2, off); /* a torn write, then the error */
        return err;
    }
    atomic_fetch_add(&writes, 1);
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}
static int f_truncate(sqlite3_file *f, sqlite3_int64 size) { return REAL(f)->pMethods->xTruncate(REAL(f), size); }
static int f_sync(sqlite3_file *f, int flags)
{
    long delay = atomic_load(&sync_delay_ms);
    if (delay > 0) {
        struct timespec ts = {delay / 1000, (delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    int err = take(FAULT_FSYNC);
    if (err)
        return err;
    atomic_fetch_add(&syncs, 1);
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int f_size(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int f_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int f_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int f_check(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int f_control(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int f_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int f_chars(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int f_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **p)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, pgsz, extend, p);
}
static int f_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void f_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int f_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int f_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, p);
}
static int f_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) { return REAL(f)->pMethods->xUnfetch(REAL(f), off, p); }

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags)
{
    (void)vfs;
    fault_file *ff = (fault_file *)file;
    ff->real = (sqlite3_file *)(ff + 1);
    memset(ff->real, 0, (size_t)real_vfs->szOsFile);
    int rc = real_vfs->xOpen(real_vfs, name, ff->real, flags, out_flags);
    /* xClose is called even after a failed open when pMethods is set. */
    ff->base.pMethods = ff->real->pMethods ? &fault_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}
static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}
static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}
static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}
static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, h, sym);
}
static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, h);
}
static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}
static int v_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, us);
}
static int v_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}
static int v_lasterr(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError(real_vfs, n, out);
}
static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

int fault_vfs_install(void)
{
    if (real_vfs)
        return SQLITE_OK;
    sqlite3_initialize();
    real_vfs = sqlite3_vfs_find("unix");
    if (!real_vfs)
        return SQLITE_ERROR;
    fault_methods = (sqlite3_io_methods){
        .iVersion = 3,
        .xClose = f_close,
        .xRead = f_read,
        .xWrite = f_write,
        .xTruncate = f_truncate,
        .xSync = f_sync,
        .xFileSize = f_size,
        .xLock = f_lock,
        .xUnlock = f_unlock,
        .xCheckReservedLock = f_check,
        .xFileControl = f_control,
        .xSectorSize = f_sector,
        .xDeviceCharacteristics = f_chars,
        .xShmMap = f_shm_map,
        .xShmLock = f_shm_lock,
        .xShmBarrier = f_shm_barrier,
        .xShmUnmap = f_shm_unmap,
        .xFetch = f_fetch,
        .xUnfetch = f_unfetch,
    };
    fault_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(fault_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = "fault",
        .xOpen = v_open,
        .xDelete = v_delete,
        .xAccess = v_access,
        .xFullPathname = v_full,
        .xDlOpen = v_dlopen,
        .xDlError = v_dlerror,
        .xDlSym = v_dlsym,
        .xDlClose = v_dlclose,
        .xRandomness = v_random,
        .xSleep = v_sleep,
        .xCurrentTime = v_time,
        .xGetLastError = v_lasterr,
        .xCurrentTimeInt64 = v_time64,
    };
    return sqlite3_vfs_register(&fault_vfs, 1);
}

void fault_vfs_arm(fault_kind kind, long after, bool torn) { fault_vfs_arm_transient(kind, after, torn, 0); }

void fault_vfs_arm_transient(fault_kind kind, long after, bool torn, long count)
{
    atomic_store(&armed_kind, FAULT_NONE);
    atomic_store(&fire_limit, count);
    atomic_store(&budget, after);
    atomic_store(&armed_torn, torn);
    atomic_store(&fired, 0);
    atomic_store(&armed_kind, (int)kind);
}

void fault_vfs_clear(void) { atomic_store(&armed_kind, FAULT_NONE); }
void fault_vfs_set_sync_delay_ms(long ms) { atomic_store(&sync_delay_ms, ms); }
long fault_vfs_writes(void) { return atomic_load(&writes); }
long fault_vfs_syncs(void) { return atomic_load(&syncs); }
long fault_vfs_fired(void) { return atomic_load(&fired); }
