/* teleop — INI-style configuration: the parser, validating lookups, and the
 * declarative key tables that parse, write back and document each module's
 * keys. */
#include "teleop/config.h"
#include "teleop/file.h"
#include "teleop/text.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct entry {
    char *key;     /* "section.key" */
    char *section; /* "section" */
    const char *name; /* the key within its section (points into key) */
    char *value;   /* trimmed, quotes removed */
    int line;
    bool used;
} entry;

typedef struct section_info {
    char *name;
    int line;
} section_info;

struct tp_config {
    char *name;
    entry *entries;
    size_t count, cap;
    /* Section headers in file order, each once: a section may have no keys
     * and still mean something (a camera with every default). */
    section_info *sections;
    size_t section_count, section_cap;
};

#define ESC_LEN 160

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* Section names: letters, digits, '_', '-', and '.' between parts. */
static bool valid_section(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

/* Keys: letters, digits, '_' and '-' (a '.' would make "section.key" ambiguous). */
static bool valid_key(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
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

static entry *find2(const tp_config *cfg, const char *section, const char *name)
{
    if (!cfg)
        return NULL;
    for (size_t i = cfg->count; i-- > 0;)
        if (!strcmp(cfg->entries[i].section, section) && !strcmp(cfg->entries[i].name, name))
            return &cfg->entries[i];
    return NULL;
}

void tp_config_free(tp_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->count; i++) {
        free(cfg->entries[i].key);
        free(cfg->entries[i].section);
        free(cfg->entries[i].value);
    }
    free(cfg->entries);
    for (size_t i = 0; i < cfg->section_count; i++)
        free(cfg->sections[i].name);
    free(cfg->sections);
    free(cfg->name);
    free(cfg);
}

static int remember_section(tp_config *cfg, const char *sec, int line)
{
    for (size_t i = 0; i < cfg->section_count; i++)
        if (!strcmp(cfg->sections[i].name, sec))
            return 0;
    if (cfg->section_count == cfg->section_cap) {
        size_t ncap = cfg->section_cap ? cfg->section_cap * 2 : 16;
        section_info *ns = realloc(cfg->sections, ncap * sizeof *ns);
        if (!ns)
            return -1;
        cfg->sections = ns;
        cfg->section_cap = ncap;
    }
    if (!(cfg->sections[cfg->section_count].name = strdup(sec)))
        return -1;
    cfg->sections[cfg->section_count].line = line;
    cfg->section_count++;
    return 0;
}

/* A line's bytes must be UTF-8 without control characters (a tab is
 * whitespace; a CR before the newline is tolerated). */
static int check_line_text(const tp_config *cfg, int lineno, const char *line, char *err, size_t errlen)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\r')
        n--;
    if (!tp_utf8_valid(line, n)) {
        snprintf(err, errlen, "%s:%d: not valid UTF-8 text", cfg->name, lineno);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)line[i];
        if ((c < 0x20 && c != '\t') || c == 0x7F || (c == 0xC2 && i + 1 < n && (unsigned char)line[i + 1] < 0xA0)) {
            snprintf(err, errlen, "%s:%d: control character (byte 0x%02X) in the line", cfg->name, lineno,
                     c == 0xC2 ? (unsigned char)line[i + 1] : c);
            return -1;
        }
    }
    return 0;
}

tp_config *tp_config_parse(const char *text, const char *name, char *err, size_t errlen)
{
    tp_config *cfg = calloc(1, sizeof *cfg);
    if (text && !strncmp(text, "\xEF\xBB\xBF", 3)) /* a UTF-8 BOM, as some editors write */
        text += 3;
    char *copy = strdup(text ? text : "");
    /* The name as messages show it: a file name's odd bytes escaped. */
    char shown[1024];
    tp_text_escape(name ? name : "<config>", shown, sizeof shown);
    if (!cfg || !copy || !(cfg->name = strdup(shown))) {
        snprintf(err, errlen, "%s: out of memory", name ? name : "<config>");
        free(copy);
        tp_config_free(cfg);
        return NULL;
    }
    char section[128] = "";
    char esc[ESC_LEN];
    int lineno = 0;
    char *save = NULL;
    /* strtok_r would merge blank lines and break line numbers; walk by hand. */
    for (char *line = copy; line; line = save) {
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        if (check_line_text(cfg, lineno, line, err, errlen) != 0)
            goto fail;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            char *rest = close ? trim(close + 1) : NULL;
            if (!close || (rest[0] != '\0' && rest[0] != '#' && rest[0] != ';')) {
                snprintf(err, errlen, "%s:%d: malformed section header '%s'", cfg->name, lineno,
                         tp_text_escape(s, esc, sizeof esc));
                goto fail;
            }
            *close = '\0';
            char *sec = trim(s + 1);
            if (!valid_section(sec) || strlen(sec) >= sizeof section) {
                snprintf(err, errlen, "%s:%d: [%s]: invalid section name (letters, digits, '_', '-', '.'; at most %zu)",
                         cfg->name, lineno, tp_text_escape(sec, esc, sizeof esc), sizeof section - 1);
                goto fail;
            }
            strcpy(section, sec);
            if (remember_section(cfg, section, lineno) != 0) {
                snprintf(err, errlen, "%s:%d: out of memory", cfg->name, lineno);
                goto fail;
            }
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value', got '%s'", cfg->name, lineno,
                     tp_text_escape(s, esc, sizeof esc));
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        if (!valid_key(key)) {
            snprintf(err, errlen, "%s:%d: [%s] %s: invalid key name (letters, digits, '_', '-')", cfg->name, lineno,
                     section, tp_text_escape(key, esc, sizeof esc));
            goto fail;
        }
        if (!section[0]) {
            snprintf(err, errlen, "%s:%d: %s: key outside any [section]", cfg->name, lineno, key);
            goto fail;
        }
        /* A quoted value keeps '#', ';' and edge blanks; its last quote
         * may be followed by a comment. No escapes: the text between the
         * first and the last quote is the value. */
        char *q = val[0] == '"' ? strrchr(val + 1, '"') : NULL;
        char *after = q ? trim(q + 1) : NULL;
        if (q && (!*after || *after == '#' || *after == ';')) {
            *q = '\0';
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
        e->section = strdup(section);
        e->value = strdup(val);
        if (!e->key || !e->value || !e->section) {
            free(e->key);
            free(e->section);
            free(e->value);
            snprintf(err, errlen, "%s:%d: out of memory", cfg->name, lineno);
            goto fail;
        }
        snprintf(e->key, kl, "%s.%s", section, key);
        e->name = e->key + strlen(section) + 1;
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
        const char *sec = cfg->sections[i].name;
        if (strncmp(sec, prefix, pl) != 0 || sec[pl] != '.' || !sec[pl + 1])
            continue;
        if (n < max)
            names[n] = sec + pl + 1;
        n++;
    }
    return n;
}

size_t tp_config_section_count(const tp_config *cfg) { return cfg ? cfg->section_count : 0; }

const char *tp_config_section_at(const tp_config *cfg, size_t i, int *line)
{
    if (!cfg || i >= cfg->section_count)
        return NULL;
    if (line)
        *line = cfg->sections[i].line;
    return cfg->sections[i].name;
}

/* "FILE:LINE: [section] key: " for entry e. */
static int entry_prefix(const tp_config *cfg, const entry *e, char *buf, size_t len)
{
    return snprintf(buf, len, "%s:%d: [%s] %s: ", cfg->name, e->line, e->section, e->name);
}

static int entry_error(const tp_config *cfg, const entry *e, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Messages are escaped where they are made: whatever a value, a file or a
 * library's message holds, no raw control byte reaches a terminal. */
static void escaped_vformat(char *out, size_t outlen, const char *fmt, va_list ap)
{
    char raw[2048];
    vsnprintf(raw, sizeof raw, fmt, ap);
    tp_text_escape(raw, out, outlen);
}

static int entry_error(const tp_config *cfg, const entry *e, char *err, size_t errlen, const char *fmt, ...)
{
    int n = entry_prefix(cfg, e, err, errlen);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        escaped_vformat(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int tp_config_error(const tp_config *file, const char *section, const char *key, char *err, size_t errlen,
                    const char *fmt, ...)
{
    const entry *e = key ? find2(file, section, key) : NULL;
    int line = e ? e->line : 0;
    if (!e && file) /* a key not given: its section's header, if there is one */
        for (size_t i = 0; i < file->section_count; i++)
            if (!strcmp(file->sections[i].name, section))
                line = file->sections[i].line;
    const char *name = file ? file->name : "defaults";
    int n;
    if (line)
        n = snprintf(err, errlen, "%s:%d: [%s]%s%s: ", name, line, section, key ? " " : "", key ? key : "");
    else
        n = snprintf(err, errlen, "%s: [%s]%s%s: ", name, section, key ? " " : "", key ? key : "");
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        escaped_vformat(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ------------------------------------------------------------ values */

static int parse_double(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v) || isspace((unsigned char)*text))
        return -1;
    *out = v;
    return 0;
}

static int parse_long(const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE || isspace((unsigned char)*text))
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *text, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(text, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(text, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
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
    double v;
    if (parse_double(e->value, &v) != 0)
        return entry_error(cfg, e, err, errlen, "expected a number, got '%s'", e->value);
    if (v < min || v > max)
        return entry_error(cfg, e, err, errlen, "%g is out of range [%g, %g]", v, min, max);
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
    long v;
    if (parse_long(e->value, &v) != 0)
        return entry_error(cfg, e, err, errlen, "expected an integer, got '%s'", e->value);
    if (v < min || v > max)
        return entry_error(cfg, e, err, errlen, "%ld is out of range [%ld, %ld]", v, min, max);
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
    if (parse_bool(e->value, out) != 0)
        return entry_error(cfg, e, err, errlen, "expected true or false, got '%s'", e->value);
    return 0;
}

int tp_config_check_unused(const tp_config *cfg, char *err, size_t errlen)
{
    if (!cfg)
        return 0;
    for (size_t i = 0; i < cfg->count; i++) {
        /* A key repeated later is "used" through its last occurrence. */
        const entry *last = find(cfg, cfg->entries[i].key);
        if (!last->used)
            return entry_error(cfg, last, err, errlen, "unknown key");
    }
    return 0;
}

bool tp_config_given(tp_config *file, const char *section, const char *key)
{
    entry *e = find2(file, section, key);
    if (e)
        e->used = true;
    return e != NULL;
}

/* ------------------------------------------------------------ tables */

static void *field_at(void *base, const tp_config_key *k) { return (char *)base + k->offset; }
static const void *cfield_at(const void *base, const tp_config_key *k) { return (const char *)base + k->offset; }

static int store_text(const tp_config_key *k, void *base, const char *text, const tp_config *cfg, const entry *e,
                      char *err, size_t errlen)
{
    if (k->size) {
        if (strlen(text) >= k->size)
            return entry_error(cfg, e, err, errlen, "%zu bytes, the limit is %zu", strlen(text), k->size - 1);
        memmove(field_at(base, k), text, strlen(text) + 1);
    } else {
        /* An empty path is the default, which a pointer field says with NULL. */
        *(const char **)field_at(base, k) = k->type == TP_CFG_PATH && !text[0] ? NULL : text;
    }
    return 0;
}

static int choice_index(const tp_config_key *k, const char *text)
{
    for (int i = 0; k->choices[i]; i++)
        if (!strcmp(k->choices[i], text))
            return i;
    return -1;
}

static void choice_list(const tp_config_key *k, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; k->choices[i] && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", k->choices[i]);
}

/* An existing regular file, named relative to the working directory. */
static int check_path(const char *path, const tp_config *cfg, const entry *e, char *err, size_t errlen)
{
    char shown[4096];
    if (path[0] == '/') {
        snprintf(shown, sizeof shown, "%s", path);
    } else {
        char cwd[2048];
        if (!getcwd(cwd, sizeof cwd))
            snprintf(cwd, sizeof cwd, ".");
        snprintf(shown, sizeof shown, "%s/%s", cwd, path);
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return entry_error(cfg, e, err, errlen, "%s: %s", shown, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return entry_error(cfg, e, err, errlen, "%s: not a regular file", shown);
    return 0;
}

static int apply_key(tp_config *cfg, entry *e, const tp_config_key *k, void *base, char *err, size_t errlen)
{
    const char *text = e->value;
    void *field = field_at(base, k);
    char why[160];
    switch (k->type) {
    case TP_CFG_BOOL:
        if (parse_bool(text, field) != 0)
            return entry_error(cfg, e, err, errlen, "expected true or false, got '%s'", text);
        return 0;
    case TP_CFG_INT: {
        long v;
        if (parse_long(text, &v) != 0)
            return entry_error(cfg, e, err, errlen, "expected an integer, got '%s'", text);
        if ((double)v < k->min || (double)v > k->max)
            return entry_error(cfg, e, err, errlen, "%ld is out of range [%.0f, %.0f]", v, k->min, k->max);
        *(int *)field = (int)v;
        return 0;
    }
    case TP_CFG_DOUBLE: {
        double v;
        if (parse_double(text, &v) != 0)
            return entry_error(cfg, e, err, errlen, "expected a number, got '%s'", text);
        if (v < k->min || v > k->max)
            return entry_error(cfg, e, err, errlen, "%g is out of range [%g, %g]", v, k->min, k->max);
        *(double *)field = v;
        return 0;
    }
    case TP_CFG_TEXT:
    case TP_CFG_PATH: {
        size_t max = k->max > 0 ? (size_t)k->max : TP_TASK_MAX_BYTES;
        if (tp_text_check(text, max, why, sizeof why) != 0)
            return entry_error(cfg, e, err, errlen, "%s", why);
        if (k->type == TP_CFG_PATH && text[0] && check_path(text, cfg, e, err, errlen) != 0)
            return -1;
        return store_text(k, base, text, cfg, e, err, errlen);
    }
    case TP_CFG_NAME:
        if (text[0] && tp_name_check(text, k->max > 0 ? (size_t)k->max : TP_NAME_MAX_BYTES, why, sizeof why) != 0)
            return entry_error(cfg, e, err, errlen, "'%s' is not a name: %s", text, why);
        return store_text(k, base, text, cfg, e, err, errlen);
    case TP_CFG_ENUM:
    case TP_CFG_ENUM_INDEX: {
        int i = choice_index(k, text);
        if (i < 0) {
            char list[512];
            choice_list(k, list, sizeof list);
            return entry_error(cfg, e, err, errlen, "'%s' is not one of %s", text, list);
        }
        if (k->type == TP_CFG_ENUM_INDEX)
            *(int *)field = i;
        else
            return store_text(k, base, k->choices[i], cfg, e, err, errlen);
        return 0;
    }
    case TP_CFG_CUSTOM:
        if (k->parse(text, field, why, sizeof why) != 0)
            return entry_error(cfg, e, err, errlen, "%s", why);
        return 0;
    }
    return entry_error(cfg, e, err, errlen, "internal: unknown key type");
}

int tp_config_apply_keys(tp_config *file, const char *section, const tp_config_key *keys, size_t count, void *base,
                         char *err, size_t errlen)
{
    if (!file)
        return 0;
    for (size_t i = 0; i < count; i++) {
        entry *e = find2(file, section, keys[i].name);
        if (!e)
            continue;
        /* Earlier assignments of the same key are known too (the last wins). */
        for (size_t j = 0; j < file->count; j++)
            if (!strcmp(file->entries[j].section, section) && !strcmp(file->entries[j].name, keys[i].name))
                file->entries[j].used = true;
        if (apply_key(file, e, &keys[i], base, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static const char *text_field(const tp_config_key *k, const void *base)
{
    const void *f = cfield_at(base, k);
    const char *s = k->size ? (const char *)f : *(const char *const *)f;
    return s ? s : "";
}

/* The shortest text that reads back as the same double. */
static void format_double(double v, char *buf, size_t len)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void tp_config_format_value(const tp_config_key *k, const void *base, char *buf, size_t len)
{
    const void *f = cfield_at(base, k);
    switch (k->type) {
    case TP_CFG_BOOL: snprintf(buf, len, "%s", *(const bool *)f ? "true" : "false"); return;
    case TP_CFG_INT: snprintf(buf, len, "%d", *(const int *)f); return;
    case TP_CFG_DOUBLE: format_double(*(const double *)f, buf, len); return;
    case TP_CFG_TEXT:
    case TP_CFG_PATH:
    case TP_CFG_NAME:
    case TP_CFG_ENUM: snprintf(buf, len, "%s", text_field(k, base)); return;
    case TP_CFG_ENUM_INDEX: {
        int i = *(const int *)f, n = 0;
        while (k->choices[n])
            n++;
        snprintf(buf, len, "%s", i >= 0 && i < n ? k->choices[i] : "?");
        return;
    }
    case TP_CFG_CUSTOM: k->format(f, buf, len); return;
    }
    snprintf(buf, len, "?");
}

static bool quoted_type(tp_config_type t) { return t == TP_CFG_TEXT || t == TP_CFG_PATH; }

void tp_config_write_keys(FILE *out, const char *section, const tp_config_key *keys, size_t count, const void *base)
{
    char *buf = malloc(TP_TASK_MAX_BYTES + 64);
    if (!buf)
        return;
    fprintf(out, "[%s]\n", section);
    for (size_t i = 0; i < count; i++) {
        tp_config_format_value(&keys[i], base, buf, TP_TASK_MAX_BYTES + 64);
        if (quoted_type(keys[i].type)) /* quotes keep '#', ';' and edge blanks; the parser strips one pair */
            fprintf(out, "%s = \"%s\"\n", keys[i].name, buf);
        else
            fprintf(out, "%s = %s\n", keys[i].name, buf);
    }
    free(buf);
}

static void doc_type(const tp_config_key *k, char *buf, size_t len)
{
    char list[512];
    switch (k->type) {
    case TP_CFG_BOOL: snprintf(buf, len, "bool"); return;
    case TP_CFG_INT: snprintf(buf, len, "integer %.0f … %.0f", k->min, k->max); return;
    case TP_CFG_DOUBLE: snprintf(buf, len, "number %g … %g", k->min, k->max); return;
    case TP_CFG_TEXT:
        snprintf(buf, len, "text, ≤ %zu bytes", k->size ? k->size - 1 : k->max > 0 ? (size_t)k->max : TP_TASK_MAX_BYTES);
        return;
    case TP_CFG_NAME:
        snprintf(buf, len, "name, ≤ %zu bytes", k->size ? k->size - 1 : k->max > 0 ? (size_t)k->max : TP_NAME_MAX_BYTES);
        return;
    case TP_CFG_PATH: snprintf(buf, len, "file"); return;
    case TP_CFG_ENUM:
    case TP_CFG_ENUM_INDEX:
        choice_list(k, list, sizeof list);
        snprintf(buf, len, "one of %s", list);
        return;
    case TP_CFG_CUSTOM: snprintf(buf, len, "%s", k->syntax ? k->syntax : "text"); return;
    }
    buf[0] = '\0';
}

void tp_config_doc_keys(FILE *out, const tp_config_key *keys, size_t count, const void *defaults)
{
    fprintf(out, "| key | value | default | meaning |\n|---|---|---|---|\n");
    for (size_t i = 0; i < count; i++) {
        const tp_config_key *k = &keys[i];
        char type[600], def[1100];
        doc_type(k, type, sizeof type);
        if (k->default_text)
            snprintf(def, sizeof def, "%s", k->default_text);
        else {
            char v[1024];
            tp_config_format_value(k, defaults, v, sizeof v);
            if (v[0])
                snprintf(def, sizeof def, "`%s`", v);
            else
                snprintf(def, sizeof def, "empty");
        }
        fprintf(out, "| `%s` | %s | %s | %s |\n", k->name, type, def, k->meaning);
    }
}
