/* teleop — INI-style configuration parser with validating lookups. */
#include "teleop/config.h"
#include "teleop/file.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct entry {
    char *key;   /* "section.key" */
    char *value; /* trimmed, quotes removed */
    int line;
    bool used;
} entry;

struct tp_config {
    char *name;
    entry *entries;
    size_t count, cap;
    /* Section headers in file order, each once: a section may have no keys
     * and still mean something (a camera with every default). */
    char **sections;
    size_t section_count, section_cap;
};

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

static entry *find(const tp_config *cfg, const char *key)
{
    if (!cfg)
        return NULL;
    /* Last assignment wins, as in most INI readers. */
    for (size_t i = cfg->count; i-- > 0;)
        if (!strcmp(cfg->entries[i].key, key))
            return &cfg->entries[i];
    return NULL;
}

void tp_config_free(tp_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    for (size_t i = 0; i < cfg->section_count; i++)
        free(cfg->sections[i]);
    free(cfg->sections);
    free(cfg->name);
    free(cfg);
}

static int remember_section(tp_config *cfg, const char *sec)
{
    for (size_t i = 0; i < cfg->section_count; i++)
        if (!strcmp(cfg->sections[i], sec))
            return 0;
    if (cfg->section_count == cfg->section_cap) {
        size_t ncap = cfg->section_cap ? cfg->section_cap * 2 : 16;
        char **ns = realloc(cfg->sections, ncap * sizeof *ns);
        if (!ns)
            return -1;
        cfg->sections = ns;
        cfg->section_cap = ncap;
    }
    if (!(cfg->sections[cfg->section_count] = strdup(sec)))
        return -1;
    cfg->section_count++;
    return 0;
}

tp_config *tp_config_parse(const char *text, const char *name, char *err, size_t errlen)
{
    tp_config *cfg = calloc(1, sizeof *cfg);
    char *copy = strdup(text ? text : "");
    if (!cfg || !copy || !(cfg->name = strdup(name ? name : "<config>"))) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<config>");
        free(copy);
        tp_config_free(cfg);
        return NULL;
    }
    char section[128] = "";
    int lineno = 0;
    char *save = NULL;
    /* strtok_r would merge blank lines and break line numbers; walk by hand. */
    for (char *line = copy; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            char *rest = close ? trim(close + 1) : NULL;
            if (!close || (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';')) {
                snprintf(err, errlen, "%s:%d: malformed section header '%s'", cfg->name, lineno, s);
                goto fail;
            }
            *close = '\0';
            char *sec = trim(s + 1);
            if (!valid_name(sec) || strlen(sec) >= sizeof section) {
                snprintf(err, errlen, "%s:%d: invalid section name '%s'", cfg->name, lineno, sec);
                goto fail;
            }
            strcpy(section, sec);
            if (remember_section(cfg, section) != 0) {
                snprintf(err, errlen, "%s:%d: out of memory", cfg->name, lineno);
                goto fail;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value', got '%s'", cfg->name, lineno, s);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (!valid_name(key)) {
            snprintf(err, errlen, "%s:%d: invalid key '%s'", cfg->name, lineno, key);
            goto fail;
        }
        if (!section[0]) {
            snprintf(err, errlen, "%s:%d: key '%s' is outside any [section]", cfg->name, lineno, key);
            goto fail;
        }
        size_t vl = strlen(val);
        if (vl >= 2 && val[0] == '"' && val[vl - 1] == '"') {
            val[vl - 1] = '\0';
            val++;
        } else {
            /* Trailing comment after whitespace, unless quoted. */
            for (char *c = val; *c; c++)
                if ((*c == '#' || *c == ';') && c > val && isspace((unsigned char)c[-1])) {
                    *c = '\0';
                    val = trim(val);
                    break;
                }
        }
        if (cfg->count == cfg->cap) {
            size_t ncap = cfg->cap ? cfg->cap * 2 : 32;
            entry *ne = realloc(cfg->entries, ncap * sizeof *ne);
            if (!ne) {
                snprintf(err, errlen, "%s:%d: out of memory", cfg->name, lineno);
                goto fail;
            }
            cfg->entries = ne;
            cfg->cap = ncap;
        }
        entry *e = &cfg->entries[cfg->count];
        size_t kl = strlen(section) + 1 + strlen(key) + 1;
        e->key = malloc(kl);
        e->value = strdup(val);
        if (!e->key || !e->value) {
            free(e->key);
            free(e->value);
            snprintf(err, errlen, "%s:%d: out of memory", cfg->name, lineno);
            goto fail;
        }
        snprintf(e->key, kl, "%s.%s", section, key);
        e->line = lineno;
        e->used = false;
        cfg->count++;
    }
    free(copy);
    return cfg;
fail:
    free(copy);
    tp_config_free(cfg);
    return NULL;
}

tp_config *tp_config_load(const char *path, char *err, size_t errlen)
{
    size_t len;
    char *buf = tp_read_file(path, &len, err, errlen);
    if (!buf)
        return NULL;
    if (memchr(buf, '\0', len)) {
        free(buf);
        snprintf(err, errlen, "%s: not a text file (contains NUL bytes)", path);
        return NULL;
    }
    tp_config *cfg = tp_config_parse(buf, path, err, errlen);
    free(buf);
    return cfg;
}

const char *tp_config_name(const tp_config *cfg) { return cfg ? cfg->name : NULL; }

bool tp_config_has(const tp_config *cfg, const char *key) { return find(cfg, key) != NULL; }

int tp_config_subsections(const tp_config *cfg, const char *prefix, const char **names, int max)
{
    if (!cfg)
        return 0;
    size_t pl = strlen(prefix);
    int n = 0;
    for (size_t i = 0; i < cfg->section_count; i++) {
        const char *sec = cfg->sections[i];
        if (strncmp(sec, prefix, pl) != 0 || sec[pl] != '.' || !sec[pl + 1])
            continue;
        if (n < max)
            names[n] = sec + pl + 1;
        n++;
    }
    return n;
}

int tp_config_get_string(tp_config *cfg, const char *key, const char *def, const char **out, char *err,
                         size_t errlen)
{
    (void)err;
    (void)errlen;
    entry *e = find(cfg, key);
    if (!e) {
        *out = def;
        return 0;
    }
    e->used = true;
    *out = e->value;
    return 0;
}

int tp_config_get_double(tp_config *cfg, const char *key, double def, double min, double max, double *out,
                         char *err, size_t errlen)
{
    entry *e = find(cfg, key);
    if (!e) {
        *out = def;
        return 0;
    }
    e->used = true;
    char *end;
    errno = 0;
    double v = strtod(e->value, &end);
    if (end == e->value || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        snprintf(err, errlen, "%s:%d: %s: expected a number, got '%s'", cfg->name, e->line, key, e->value);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s:%d: %s: %g is out of range [%g, %g]", cfg->name, e->line, key, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int tp_config_get_int(tp_config *cfg, const char *key, long def, long min, long max, long *out, char *err,
                      size_t errlen)
{
    entry *e = find(cfg, key);
    if (!e) {
        *out = def;
        return 0;
    }
    e->used = true;
    char *end;
    errno = 0;
    long v = strtol(e->value, &end, 10);
    if (end == e->value || *end != '\0' || errno == ERANGE) {
        snprintf(err, errlen, "%s:%d: %s: expected an integer, got '%s'", cfg->name, e->line, key, e->value);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s:%d: %s: %ld is out of range [%ld, %ld]", cfg->name, e->line, key, v, min,
                 max);
        return -1;
    }
    *out = v;
    return 0;
}

int tp_config_get_bool(tp_config *cfg, const char *key, bool def, bool *out, char *err, size_t errlen)
{
    entry *e = find(cfg, key);
    if (!e) {
        *out = def;
        return 0;
    }
    e->used = true;
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(e->value, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(e->value, no[i])) {
            *out = false;
            return 0;
        }
    }
    snprintf(err, errlen, "%s:%d: %s: expected true or false, got '%s'", cfg->name, e->line, key, e->value);
    return -1;
}

int tp_config_check_unused(const tp_config *cfg, char *err, size_t errlen)
{
    if (!cfg)
        return 0;
    for (size_t i = 0; i < cfg->count; i++) {
        /* A key repeated later is "used" through its last occurrence. */
        const entry *last = find(cfg, cfg->entries[i].key);
        if (!last->used) {
            snprintf(err, errlen, "%s:%d: unknown key '%s'", cfg->name, last->line, last->key);
            return -1;
        }
    }
    return 0;
}
