/* teleop — an export's output path and its temporary siblings
 * (export_output.h). */
#include "export_output.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

void tp_export_rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void tp_export_split_path(const char *path, char *dir, size_t dn, char *base, size_t bn)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    size_t l = strlen(buf);
    while (l > 1 && buf[l - 1] == '/')
        buf[--l] = 0;
    char *s = strrchr(buf, '/');
    if (!s) {
        snprintf(dir, dn, ".");
        snprintf(base, bn, "%s", buf);
    } else {
        snprintf(base, bn, "%s", s + 1);
        *s = 0;
        snprintf(dir, dn, "%s", s == buf ? "/" : buf);
    }
}

void tp_export_remove_stale(const char *dir, const char *base)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    size_t bl = strlen(base);
    struct dirent *de;
    char p[8300];
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, base, bl) || strncmp(de->d_name + bl, ".tmp-", 5) || strlen(de->d_name + bl + 5) != 6)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        tp_export_rm_tree(p);
    }
    closedir(d);
}
