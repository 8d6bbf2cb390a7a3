/* teleop — where an export writes: the output path split into its folder and
 * name, the temporary outputs (NAME.tmp-XXXXXX) an export builds beside the
 * final one, and their removal when a killed run left them. Shared by the
 * LeRobot and HDF5 exports, which publish the same way (docs/export.md,
 * Crash safety). */
#ifndef TELEOP_EXPORT_OUTPUT_H
#define TELEOP_EXPORT_OUTPUT_H

#include <stddef.h>

/* Removes a file or a folder tree (not following links); errors ignored. */
void tp_export_rm_tree(const char *path);
/* "a/b/c/" -> dir "a/b", base "c"; "c" -> ".", "c"; "/c" -> "/", "c". */
void tp_export_split_path(const char *path, char *dir, size_t dn, char *base, size_t bn);
/* Removes dir/BASE.tmp-XXXXXX entries (six characters after ".tmp-"). */
void tp_export_remove_stale(const char *dir, const char *base);

#endif
