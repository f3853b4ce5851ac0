/* fuzz_host.c: libFuzzer target for SetILFunctionBody through the harness host. Each
 * input becomes the new body of every method of calc.exe, set by a real profiler
 * library (fuzz_host_prof) from the module's IMethodMalloc during a host run. The host
 * must answer S_OK, COR_E_INVALIDPROGRAM or COR_E_BADIMAGEFORMAT; a body it accepts must
 * decode and pass the verifier at level jit (the host's level, with the module's
 * metadata) when checked here independently, and a body it refuses must fail here too,
 * with the same exception, for the same rule, named with the same message in the host's
 * diagnostic. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/host.h"
#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"
#include "ilgraft/ilbody.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void (*set_input)(const uint8_t *, size_t);
static size_t (*get_answers)(const HRESULT **);
static FILE *quiet;
static ilg_image *img;          /* the fixture again, for the independent verdict */
static const ilg_metadata *md;

static void init(void)
{
    /* Held open for the whole run, so the host's dlopen and dlclose per input only
     * count references. */
    void *lib = dlopen(ILG_FUZZ_PROFILER, RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "fuzz_host: %s\n", dlerror());
        abort();
    }
    set_input = (void (*)(const uint8_t *, size_t))dlsym(lib, "fuzz_prof_set_input");
    get_answers = (size_t(*)(const HRESULT **))dlsym(lib, "fuzz_prof_answers");
    quiet = fopen("/dev/null", "w");
    if (!set_input || !get_answers || !quiet ||
        ilg_image_open(ILG_FUZZ_IMAGE, NULL, &img) != ILG_OK ||
        ilg_image_metadata(img, &md) != ILG_OK)
        abort();
    setenv("PROF_LOG", "/dev/null", 1);
}

static ilg_status shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this, bool *pushes)
{
    return ilg_md_call_shape(md, token, pops, has_this, pushes);
}

/* The verdict reproduced outside the host: decode the bytes the host saw, verify at level
 * jit with the method's return and the module's metadata; the error the host names is
 * the one at the lowest offset, and *bad_image says whether the runtime's answer is
 * BadImageFormatException (bytes that do not decode, or an error the JIT meets first
 * that the runtime reports so). */
static bool acceptable(const uint8_t *data, size_t size, uint32_t token, uint32_t *body_size,
                       bool *decodes, bool *bad_image, ilg_status *rule, char *why,
                       size_t why_size)
{
    uint8_t *padded = calloc(1, size + 4);
    ilg_body *b = NULL;
    ilg_findings f = { 0 };
    bool ok = false;
    uint32_t pops = 0;
    bool has_this = false, pushes = false;
    if (!padded || ilg_body_new(&b) != ILG_OK)
        abort();
    memcpy(padded, data, size);
    ilg_stack_resolver r = { shape, NULL, -1 };
    if (ilg_md_call_shape(md, token, &pops, &has_this, &pushes) == ILG_OK)
        r.ret_pops = pushes ? 1 : 0;
    /* The host may read what the profiler allocated: max(size, 1) bytes (zero when the
     * input is empty). */
    ilg_status st = ilg_body_decode(b, padded, size ? size : 1);
    *decodes = st == ILG_OK;
    *bad_image = !*decodes;
    *rule = st;
    /* Enough of the reason to recognise it in the host's diagnostic. */
    snprintf(why, why_size, "%.60s", st == ILG_OK ? "" : ilg_last_diag()->message);
    if (st == ILG_OK) {
        ilg_type_resolver tr;
        ilg_md_type_resolver(ilg_md_module_scope(md), token, &tr);
        const ilg_verify_options vo = { ILG_VERIFY_JIT, &r, &tr };
        if (ilg_body_verify_opts(b, &vo, &f) != ILG_OK)
            abort();
        ok = f.errors == 0;
        const ilg_finding *first = NULL;
        for (uint32_t k = 0; k < f.count; k++)
            if (f.items[k].severity == ILG_SEVERITY_ERROR && (!first || f.items[k].offset < first->offset))
                first = &f.items[k];
        *rule = ok ? ILG_OK : first->rule;
        *bad_image = !ok && f.outcome == ILG_OUTCOME_BAD_IMAGE;
        if (!ok)
            snprintf(why, why_size, "%.60s", first->message);
        *body_size = b->size;
    }
    ilg_findings_free(&f);
    ilg_body_free(b);
    free(padded);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const images[] = { ILG_FUZZ_IMAGE };
    if (!set_input)
        init();
    set_input(data, size);
    ilg_host_options o = { .log = quiet };
    ilg_host *h = NULL;
    if (ilg_host_new(&o, &h) != ILG_OK ||
        ilg_host_load_profiler(h, ILG_FUZZ_PROFILER, ILG_FUZZ_CLSID) != ILG_OK ||
        ilg_host_run(h, images, 1) != ILG_OK)
        abort();
    const HRESULT *answers;
    size_t n = get_answers(&answers), call = 0;
    ilg_host_module mod;
    if (n == 0 || ilg_host_module_get(h, 0, &mod) != ILG_OK)
        abort();
    for (uint32_t rid = 1; rid <= mod.method_count && call < n; rid++) {
        ilg_host_method m;
        if (ilg_host_method_get(h, 0, rid, &m) != ILG_OK)
            abort();
        if (!m.jitted)
            continue;
        HRESULT hr = answers[call++];
        uint32_t body_size = 0;
        bool decodes = false, bad_image = false;
        ilg_status rule = ILG_OK;
        char why[64];
        bool ok = acceptable(data, size, m.token, &body_size, &decodes, &bad_image, &rule, why,
                             sizeof why);
        if (hr == S_OK) {
            if (!ok || m.status != ILG_HOST_REWRITTEN || m.new_size != body_size)
                abort();
        } else if (hr == COR_E_INVALIDPROGRAM || hr == COR_E_BADIMAGEFORMAT) {
            /* Refused, for the reason reproduced here (bytes that do not decode and errors
             * the runtime reports as such are a bad image, other errors an invalid
             * program), and the diagnostic says which rule. */
            if (ok || bad_image != (hr == COR_E_BADIMAGEFORMAT) || m.status != ILG_HOST_REJECTED ||
                !m.diagnostic || !strstr(m.diagnostic, ilg_status_name(rule)) ||
                !strstr(m.diagnostic, why)) {
                fprintf(stderr, "fuzz_host: 0x%08x refused with 0x%08x (%s), here %s: %s: %s\n",
                        m.token, (unsigned)hr, m.diagnostic ? m.diagnostic : "no diagnostic",
                        decodes ? "decodes" : "does not decode", ilg_status_name(rule), why);
                abort();
            }
        } else {
            /* Arena memory is a valid place: nothing else may come back. */
            fprintf(stderr, "fuzz_host: SetILFunctionBody(0x%08x) returned 0x%08x: %s\n",
                    m.token, (unsigned)hr, m.diagnostic ? m.diagnostic : "");
            abort();
        }
    }
    ilg_host_free(h);
    return 0;
}
