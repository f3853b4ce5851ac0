/* probe_jit.c: asks CoreCLR's JIT about hand-written bodies, beside ilgraft's `jit`
 * verdict on the same bytes: the instrument for learning a rule of the JIT before the
 * verifier gets it (docs/coreclr-observed.md, "What the JIT rejects"). Each probe
 * replaces the body of one method of the assembly; the methods must be ones the driver
 * can compile on their own (not generic).
 *
 *   probe_jit ASSEMBLY PROBES
 *
 * PROBES is text: a line "@ TOKEN [LABEL]" starts a probe for MethodDef TOKEN, and the
 * lines after it are its body in `ilgraft dis` syntax with numeric tokens (.maxstack
 * and .locals as there; without .locals the method's own local signature is kept).
 * Lines starting with '#' before a probe are comments. Probes of one method run in
 * separate rounds (one body per method per process). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ilgraft/loader.h"
#include "mutate.h"
#include "verdict.h"

typedef struct probe {
    uint32_t token;
    char label[120];
    char *text;
    size_t len;
    mx_mutant mu;
    bool ok;
    mx_verdict v;
} probe;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

/* Splits the file into probes (text pointers into buf, which is modified). */
static size_t parse(char *buf, probe **out)
{
    size_t n = 0, cap = 0;
    probe *ps = NULL;
    for (char *line = buf; line && *line;) {
        char *nl = strchr(line, '\n');
        if (line[0] == '@') {
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                ps = realloc(ps, cap * sizeof *ps);
                if (!ps)
                    return 0;
            }
            probe *p = &ps[n++];
            memset(p, 0, sizeof *p);
            char *end;
            p->token = (uint32_t)strtoul(line + 1, &end, 0);
            size_t l = nl ? (size_t)(nl - end) : strlen(end);
            while (l && (*end == ' ' || *end == '\t'))
                end++, l--;
            snprintf(p->label, sizeof p->label, "%.*s", (int)l, end);
            p->text = nl ? nl + 1 : line + strlen(line);
            if (n > 1)
                ps[n - 2].len = (size_t)(line - ps[n - 2].text);
        }
        line = nl ? nl + 1 : NULL;
    }
    if (n)
        ps[n - 1].len = strlen(ps[n - 1].text);
    *out = ps;
    return n;
}

/* The probe's body as bytes: its text assembled, the method's locals kept unless set. */
static bool build(const ilg_metadata *md, probe *p)
{
    ilg_body *b;
    ilg_buffer buf = { 0 };
    ilg_method_body mb;
    if (ilg_body_new(&b) != ILG_OK)
        return false;
    bool ok = ilg_body_assemble(b, p->text, p->len, NULL) == ILG_OK;
    if (!ok)
        fprintf(stderr, "probe_jit: %s: %s\n", p->label, ilg_last_diag()->message);
    if (ok && !b->local_sig && ilg_md_method_body(md, p->token & 0xFFFFFF, &mb) == ILG_OK)
        ilg_body_set_locals(b, mb.local_sig, mb.init_locals);
    ok = ok && ilg_body_layout(b) == ILG_OK &&
         ilg_body_encode(b, ILG_ENCODE_OPTIMIZE_KEEP_MAXSTACK, NULL, &buf) == ILG_OK;
    if (ok) {
        p->mu.token = p->token;
        p->mu.family = MX_SPECIAL;
        snprintf(p->mu.what, sizeof p->mu.what, "%s", p->label);
        p->mu.bytes = buf.data;
        p->mu.size = (uint32_t)buf.len;
    } else {
        free(buf.data);
    }
    ilg_body_free(b);
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: probe_jit ASSEMBLY PROBES\n");
        return 2;
    }
    size_t len;
    char *text = slurp(argv[2], &len);
    probe *ps = NULL;
    size_t n = text ? parse(text, &ps) : 0;
    mx_module m;
    if (!n || !mx_open(argv[1], UINT32_MAX, &m)) {
        fprintf(stderr, "probe_jit: no probes in %s, or %s does not open\n", argv[2], argv[1]);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        ps[i].ok = build(m.md, &ps[i]);
    char work[64];
    snprintf(work, sizeof work, "/tmp/ilg_probe_jit_%d", (int)getpid());
    mkdir(work, 0700);
    mx_runner r = { ILG_DOTNET, ILG_DRIVER_DLL, ILG_VERIFY_PROF, work, 120000, 0 };
    mx_mutant *batch = calloc(n, sizeof *batch);
    mx_verdict *v = calloc(n, sizeof *v);
    size_t *idx = calloc(n, sizeof *idx);
    bool *done = calloc(n, sizeof *done);
    for (;;) { /* rounds: the first pending probe of every method */
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (done[i] || !ps[i].ok)
                continue;
            bool taken = false;
            for (size_t j = 0; j < k && !taken; j++)
                taken = batch[j].token == ps[i].token;
            if (!taken) {
                batch[k] = ps[i].mu;
                idx[k++] = i;
                done[i] = true;
            }
        }
        if (!k || !mx_run(&r, argv[1], batch, k, v))
            break;
        for (size_t j = 0; j < k; j++)
            ps[idx[j]].v = v[j];
    }
    for (size_t i = 0; i < n; i++) {
        char why[400] = "";
        if (!ps[i].ok) {
            printf("%-40s not assembled\n", ps[i].label);
            continue;
        }
        mx_outcome o = vx_predict(&m.scope, ps[i].token, ps[i].mu.bytes, ps[i].mu.size, why, sizeof why);
        printf("%s %-40s jit: %s (%s)\n    ilgraft: %s%s%s\n", ps[i].v.outcome == o ? "same" : "DIFF",
               ps[i].label, ps[i].v.installed ? mx_outcome_name(ps[i].v.outcome) : "not installed",
               ps[i].v.detail, mx_outcome_name(o), why[0] ? ": " : "", why);
        free(ps[i].mu.bytes);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    int rc = system(cmd);
    free(batch);
    free(v);
    free(idx);
    free(done);
    free(ps);
    free(text);
    mx_close(&m);
    return rc != 0;
}
