/* Test support: an SQLite VFS that wraps the default "unix" VFS and injects
 * disk faults, the way SQLite tests itself. Registered as the default VFS
 * under the name "fault", so code under test (the episode writer) uses it
 * unchanged. Once armed, the fault triggers after a number of successful
 * writes (or fsyncs) and then persists, like a full disk, until cleared.
 * Test-only: never linked into teleop. */
#ifndef TELEOP_TEST_FAULT_VFS_H
#define TELEOP_TEST_FAULT_VFS_H

#include <stdbool.h>

typedef enum fault_kind {
    FAULT_NONE = 0,
    FAULT_IOERR_WRITE, /* xWrite fails with SQLITE_IOERR_WRITE */
    FAULT_FULL,        /* xWrite fails with SQLITE_FULL (ENOSPC) */
    FAULT_FSYNC,       /* xSync fails with SQLITE_IOERR_FSYNC */
} fault_kind;

/* Registers the VFS as the default (idempotent). 0 or an SQLite error. */
int fault_vfs_install(void);
/* The (after + 1)-th write (sync for FAULT_FSYNC) from now fails, and every
 * one after it. torn: a failing write first writes half its bytes. */
void fault_vfs_arm(fault_kind kind, long after, bool torn);
/* As arm, but the disk recovers after count faults (count 0: never): a
 * transient I/O error. */
void fault_vfs_arm_transient(fault_kind kind, long after, bool torn, long count);
void fault_vfs_clear(void);
/* Every xSync sleeps this long (a slow disk); 0 for none. */
void fault_vfs_set_sync_delay_ms(long ms);
/* Writes and syncs since install (counted while no fault fires). */
long fault_vfs_writes(void);
long fault_vfs_syncs(void);
/* Faults returned since the last arm. */
long fault_vfs_fired(void);

#endif
