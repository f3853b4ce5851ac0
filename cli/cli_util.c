/* cli_util.c: error reporting, JSON printing and number parsing shared by the commands,
 * and the checks `ilgraft run` makes before it loads a profiler. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "ilgraft/metadata.h"

static bool json_errors;

void cli_json_errors(bool on) { json_errors = on; }

const char *cli_where_text(ilg_where where, uint64_t offset, char *buf, size_t size)
{
    static const char *const kind[] = { "", "file offset", "IL offset", "RVA" };
    if (where == ILG_WHERE_NONE || (unsigned)where >= sizeof kind / sizeof *kind)
        snprintf(buf, size, "%s", "");
    else if (where == ILG_WHERE_IL)
        snprintf(buf, size, "%s 0x%04llx", kind[where], (unsigned long long)offset);
    else
        snprintf(buf, size, "%s 0x%llx", kind[where], (unsigned long long)offset);
    return buf;
}

json_t *cli_json_error(const char *code, const char *message, ilg_where where, uint64_t offset)
{
    static const char *const kind[] = { NULL, "file", "il", "rva" };
    json_t *e = json_pack("{s:s, s:s}", "code", code, "message", message);
    if (e && where != ILG_WHERE_NONE && (unsigned)where < sizeof kind / sizeof *kind) {
        json_object_set_new(e, "where", json_string(kind[where]));
        json_object_set_new(e, "offset", cli_json_u64(offset));
    }
    return e;
}

json_t *cli_json_diag(ilg_status status)
{
    const ilg_diag *d = ilg_last_diag();
    const bool ours = d->status == status;
    return cli_json_error(ilg_status_name(status),
                          ours && d->message[0] ? d->message : ilg_strerror(status),
                          ours ? d->where : ILG_WHERE_NONE, ours ? d->offset : 0);
}

static void print_error_json(const char *file, json_t *error)
{
    if (!json_errors) {
        json_decref(error);
        return;
    }
    fflush(stdout);
    cli_print_json(json_pack("{s:s, s:o}", "path", file, "error", error));
    fflush(stdout);
}

void cli_fail_line(const char *file, ilg_status status)
{
    const ilg_diag *d = ilg_last_diag();
    const char *msg = d->status == status && d->message[0] ? d->message : ilg_strerror(status);
    char at[64];
    if (d->status == status && d->where != ILG_WHERE_NONE)
        fprintf(stderr, "ilgraft: %s: %s (%s at %s)\n", file, msg, ilg_status_name(status),
                cli_where_text(d->where, d->offset, at, sizeof at));
    else
        fprintf(stderr, "ilgraft: %s: %s (%s)\n", file, msg, ilg_status_name(status));
}

int cli_fail(const char *file, ilg_status status)
{
    cli_fail_line(file, status);
    print_error_json(file, cli_json_diag(status));
    return CLI_BAD_INPUT;
}

int cli_error(const char *file, ilg_status status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ilgraft: %s: %s (%s)\n", file, msg, ilg_status_name(status));
    print_error_json(file, cli_json_error(ilg_status_name(status), msg, ILG_WHERE_NONE, 0));
    return CLI_BAD_INPUT;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "ilgraft: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'ilgraft %s --help'.\n", cmd);
    return CLI_USAGE;
}

int cli_print_json(json_t *value)
{
    if (!value) {
        fprintf(stderr, "ilgraft: out of memory building JSON\n");
        return CLI_BAD_INPUT;
    }
    cli_buffer_stdout(); /* jansson writes many small pieces */
    int rc = json_dumpf(value, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(value);
    return rc == 0 ? CLI_OK : CLI_BAD_INPUT;
}

json_t *cli_json_u64(uint64_t v) { return json_integer((json_int_t)v); }

bool cli_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s || *s == '-')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

void cli_buffer_stdout(void)
{
    static char buf[1 << 20];
    static bool done;
    if (!done)
        setvbuf(stdout, buf, _IOFBF, sizeof buf);
    done = true;
}

void cli_prot_text(int prot, char out[4])
{
    out[0] = prot & PROT_READ ? 'r' : '-';
    out[1] = prot & PROT_WRITE ? 'w' : '-';
    out[2] = prot & PROT_EXEC ? 'x' : '-';
    out[3] = 0;
}

/* ---- ilgraft run's checks ---------------------------------------------------------- */

bool cli_bundled_plugin(char *buf, size_t size)
{
    /* Relative to the directory of this executable: the build tree's layout, then the
     * install tree's (bindir to libdir), both worked out by CMake (cli/CMakeLists.txt). */
    static const char *const rel[] = { ILG_PLUGIN_BUILD_DIR, ILG_PLUGIN_INSTALL_DIR };
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, size, "%s", ILG_PLUGIN_NAME);
        return false;
    }
    exe[n] = 0;
    const char *dir = dirname(exe);
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char joined[PATH_MAX], real[PATH_MAX];
        snprintf(joined, sizeof joined, "%s/%s", dir, rel[i]);
        snprintf(buf, size, "%s/%s", realpath(joined, real) ? real : joined, ILG_PLUGIN_NAME);
        if (access(buf, R_OK) == 0)
            return true;
    }
    return false;
}

int cli_check_images(char *const *paths, size_t count, bool readytorun)
{
    for (size_t i = 0; i < count; i++) {
        ilg_image *img;
        const ilg_metadata *md;
        const ilg_r2r *r2r;
        ilg_status st = ilg_image_open(paths[i], NULL, &img);
        if (st != ILG_OK)
            return cli_fail(paths[i], st);
        st = ilg_image_metadata(img, &md);
        if (st == ILG_OK && readytorun &&
            (st = ilg_image_readytorun(img, &r2r)) == ILG_E_R2R_ABSENT)
            st = ILG_OK;
        int rc = st == ILG_OK ? CLI_OK : cli_fail(paths[i], st);
        ilg_image_close(img);
        if (rc != CLI_OK)
            return rc;
    }
    return CLI_OK;
}

int cli_check_output_dir(const char *opt, const char *dir, char *const *inputs, size_t count)
{
    struct stat d;
    if (stat(dir, &d) != 0)
        return cli_error(dir, ILG_E_IO, "%s needs an existing directory: %s", opt, strerror(errno));
    if (!S_ISDIR(d.st_mode))
        return cli_error(dir, ILG_E_IO, "%s needs a directory; this is not one", opt);
    if (access(dir, W_OK | X_OK) != 0)
        return cli_error(dir, ILG_E_IO, "%s: cannot write into the directory: %s", opt,
                         strerror(errno));
    for (size_t i = 0; i < count; i++) {
        char copy[PATH_MAX];
        struct stat in;
        snprintf(copy, sizeof copy, "%s", inputs[i]);
        if (stat(dirname(copy), &in) == 0 && in.st_dev == d.st_dev && in.st_ino == d.st_ino)
            return cli_error(dir, ILG_E_INVALID_ARG,
                             "%s: writing %s into its own directory would overwrite its own input",
                             opt, inputs[i]);
    }
    return CLI_OK;
}
