/* cli_util.c: error reporting, JSON printing and number parsing shared by the commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "cli.h"

int cli_fail(const char *file, ilg_status status)
{
    const ilg_diag *d = ilg_last_diag();
    const char *msg = d->status == status && d->message[0] ? d->message : ilg_strerror(status);
    static const char *const where[] = { "", "file offset", "IL offset", "RVA" };
    if (d->status == status && d->where != ILG_WHERE_NONE)
        fprintf(stderr, "ilgraft: %s: %s (%s at %s 0x%llx)\n", file, msg, ilg_status_name(status),
                where[d->where], (unsigned long long)d->offset);
    else
        fprintf(stderr, "ilgraft: %s: %s (%s)\n", file, msg, ilg_status_name(status));
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
