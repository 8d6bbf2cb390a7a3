/* teleop — AWS credentials: environment, then the shared credentials file
 * (INI, refused unless only its owner can read it); region from the
 * environment or the profile in ~/.aws/config. Values are never printed. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "s3_internal.h"

static void cred_error(tp_s3_error *e, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cred_error(tp_s3_error *e, const char *code, const char *fmt, ...)
{
    if (!e)
        return;
    e->http_status = 0;
    snprintf(e->code, sizeof e->code, "%s", code);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static int copy_value(char *dst, size_t dstlen, const char *src)
{
    size_t n = strlen(src);
    if (n >= dstlen)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = 0;
    return s;
}

/* Reads [section] key = value pairs of one section; calls on_kv for each.
 * Returns 1 when the section was found, 0 when not, -1 on error (errno). */
typedef int (*kv_fn)(void *user, const char *key, const char *value);
static int ini_section(FILE *f, const char *section, kv_fn on_kv, void *user)
{
    char line[8192];
    bool in = false, found = false;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close)
                continue;
            *close = 0;
            in = !strcmp(trim(s + 1), section);
            found |= in;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = 0;
        if (on_kv(user, trim(s), trim(eq + 1))) {
            rc = -1;
            break;
        }
    }
    explicit_bzero(line, sizeof line);
    if (rc)
        return -1;
    return found ? 1 : 0;
}

static int on_cred(void *user, const char *key, const char *value)
{
    tp_s3_credentials *c = user;
    if (!strcasecmp(key, "aws_access_key_id"))
        return copy_value(c->access_key_id, sizeof c->access_key_id, value);
    if (!strcasecmp(key, "aws_secret_access_key"))
        return copy_value(c->secret_access_key, sizeof c->secret_access_key, value);
    if (!strcasecmp(key, "aws_session_token") || !strcasecmp(key, "aws_security_token"))
        return copy_value(c->session_token, sizeof c->session_token, value);
    if (!strcasecmp(key, "region") && !c->region[0])
        return copy_value(c->region, sizeof c->region, value);
    return 0;
}

static int on_region(void *user, const char *key, const char *value)
{
    tp_s3_credentials *c = user;
    if (!strcasecmp(key, "region") && !c->region[0])
        return copy_value(c->region, sizeof c->region, value);
    return 0;
}

static void home_path(char *out, size_t outlen, const char *rel)
{
    const char *home = getenv("HOME");
    snprintf(out, outlen, "%s/%s", home && home[0] ? home : ".", rel);
}

static const char *profile_name(void)
{
    const char *p = getenv("AWS_PROFILE");
    if (!p || !p[0])
        p = getenv("AWS_DEFAULT_PROFILE");
    return p && p[0] ? p : "default";
}

static void region_from_config(tp_s3_credentials *c)
{
    char path[512];
    const char *cfg = getenv("AWS_CONFIG_FILE");
    if (cfg && cfg[0])
        snprintf(path, sizeof path, "%s", cfg);
    else
        home_path(path, sizeof path, ".aws/config");
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    const char *profile = profile_name();
    char section[256];
    if (!strcmp(profile, "default"))
        snprintf(section, sizeof section, "default");
    else
        snprintf(section, sizeof section, "profile %s", profile);
    ini_section(f, section, on_region, c);
    fclose(f);
}

int tp_s3_credentials_load(tp_s3_credentials *c, tp_s3_error *e)
{
    memset(c, 0, sizeof *c);
    const char *env_region = getenv("AWS_REGION");
    if (!env_region || !env_region[0])
        env_region = getenv("AWS_DEFAULT_REGION");
    if (env_region && env_region[0] && copy_value(c->region, sizeof c->region, env_region)) {
        cred_error(e, "InvalidRegion", "s3: AWS_REGION is too long");
        return -1;
    }
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if ((id && id[0]) || (secret && secret[0])) {
        if (!id || !id[0] || !secret || !secret[0]) {
            cred_error(e, "NoCredentials", "s3: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
            tp_s3_credentials_clear(c);
            return -1;
        }
        const char *token = getenv("AWS_SESSION_TOKEN");
        if (copy_value(c->access_key_id, sizeof c->access_key_id, id) ||
            copy_value(c->secret_access_key, sizeof c->secret_access_key, secret) ||
            copy_value(c->session_token, sizeof c->session_token, token ? token : "")) {
            cred_error(e, "InvalidCredentials", "s3: a credential in the environment is too long");
            tp_s3_credentials_clear(c);
            return -1;
        }
        snprintf(c->source, sizeof c->source, "environment");
        if (!c->region[0])
            region_from_config(c);
        return 0;
    }
    char path[512];
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (file && file[0])
        snprintf(path, sizeof path, "%s", file);
    else
        home_path(path, sizeof path, ".aws/credentials");
    snprintf(c->source, sizeof c->source, "%s", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0 && errno == ELOOP)
        fd = open(path, O_RDONLY | O_CLOEXEC); /* a symlink: the target's mode is checked below */
    if (fd < 0) {
        cred_error(e, "NoCredentials",
                   "s3: no credentials: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset and %s: %s", path,
                   strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        cred_error(e, "InvalidCredentials", "s3: credentials file %s is not a regular file", path);
        close(fd);
        return -1;
    }
    if (st.st_mode & 077) {
        cred_error(e, "InsecureCredentialsFile",
                   "s3: credentials file %s has mode %04o: group or others can read it; refused "
                   "(chmod 600 %s)",
                   path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return -1;
    }
    FILE *f = fdopen(fd, "r");
    if (!f) {
        close(fd);
        cred_error(e, "InvalidCredentials", "s3: credentials file %s: %s", path, strerror(errno));
        return -1;
    }
    setvbuf(f, NULL, _IONBF, 0); /* no stdio copy of the secret left in a buffer */
    const char *profile = profile_name();
    int found = ini_section(f, profile, on_cred, c);
    fclose(f);
    if (found < 0) {
        cred_error(e, "InvalidCredentials", "s3: credentials file %s: a value of profile [%s] is too long", path,
                   profile);
        tp_s3_credentials_clear(c);
        return -1;
    }
    if (found == 0 || !c->access_key_id[0] || !c->secret_access_key[0]) {
        cred_error(e, "NoCredentials", "s3: credentials file %s: profile [%s] %s", path, profile,
                   found ? "lacks aws_access_key_id or aws_secret_access_key" : "not found");
        tp_s3_credentials_clear(c);
        return -1;
    }
    if (!c->region[0])
        region_from_config(c);
    return 0;
}

void tp_s3_credentials_clear(tp_s3_credentials *c) { explicit_bzero(c, sizeof *c); }
