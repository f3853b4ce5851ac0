/* trace.h: the line-makers of `ilgraft run --trace` (trace.c), used by the generated
 * wrappers of trace.inc and by host.c around the callbacks it delivers. One line per
 * profiler-to-host call, "Interface::Method(arguments) = HRESULT: out values", and per
 * callback "callback Name(arguments)" before and "callback Name = HRESULT" after it
 * (docs/profiler.md, "--trace"). Not installed. */
#ifndef ILG_HOST_TRACE_H
#define ILG_HOST_TRACE_H

#include "host_private.h"

/* Longest text shown of a string argument, in characters. */
#define ILG__TRACE_TEXT_MAX 256
/* Longest line; what does not fit ends in "...". */
#define ILG__TRACE_LINE_MAX 2048

typedef struct ilg__trace_call {
    ilg_host *host;
    size_t len;
    bool first;                  /* no argument (or out value) written yet */
    bool outs;                   /* the result is written: out values follow */
    char line[ILG__TRACE_LINE_MAX];
} ilg__trace_call;

/* What the method answered beyond its HRESULT, for its trace line (an unsupported
 * method's reason, a refusal's rule): set by the host while the call runs. */
extern _Thread_local const char *ilg__trace_note;

/* Set by the host around a call it makes itself through a profiler-facing object (the
 * metadata object's QueryInterface inside GetModuleMetaData): no line for it. */
extern _Thread_local bool ilg__trace_inner;

/* iface NULL: a callback's line ("callback Name("). */
void ilg__trace_begin(ilg__trace_call *tc, ilg_host *host, const char *iface, const char *method);
void ilg__trace_id(ilg__trace_call *tc, const char *name, unsigned long long v);
void ilg__trace_dec(ilg__trace_call *tc, const char *name, long long v);
void ilg__trace_hex(ilg__trace_call *tc, const char *name, unsigned long long v);
void ilg__trace_tok(ilg__trace_call *tc, const char *name, uint32_t v);
void ilg__trace_hr(ilg__trace_call *tc, const char *name, HRESULT v);
void ilg__trace_ptr(ilg__trace_call *tc, const char *name, const void *v);
void ilg__trace_text(ilg__trace_call *tc, const char *name, const char *text);
void ilg__trace_utf8(ilg__trace_call *tc, const char *name, const char *text);
/* At most max characters of w, to its NUL; max 0 for no bound but ILG__TRACE_TEXT_MAX. */
void ilg__trace_wstr(ilg__trace_call *tc, const char *name, const WCHAR *w, unsigned long max);
void ilg__trace_guid(ilg__trace_call *tc, const char *name, const GUID *g);
/* Closes the argument list: ")". */
void ilg__trace_open(ilg__trace_call *tc);
/* Closes it with the result: ") = S_OK" and ":" before out values. */
void ilg__trace_hresult(ilg__trace_call *tc, HRESULT hr);
/* ... with a count or BOOL (AddRef, Release, IsValidToken): ") = 1". */
void ilg__trace_result(ilg__trace_call *tc, long long r);
void ilg__trace_void(ilg__trace_call *tc);
/* Adds the thread and the note, writes the line. */
void ilg__trace_end(ilg__trace_call *tc);
/* "callback Name = HRESULT" after a callback returned. */
void ilg__trace_cb_return(ilg_host *host, const char *name, HRESULT hr);
/* GetILFunctionBodyAllocator's answer under --trace: m's arena allocator (a new
 * reference in *out) behind a tracing IMethodMalloc; E_OUTOFMEMORY when the arena has
 * none. ilg__trace_malloc_free releases the arena's with the module. */
HRESULT ilg__trace_malloc(host_module *m, IMethodMalloc **out);
/* Sets up m's wrapper when the module is opened (before any thread can ask for it). */
void ilg__trace_malloc_init(host_module *m);
void ilg__trace_malloc_free(host_module *m);
/* Under --trace: the enumerator iface (one of enums.c's, or NULL) traces its calls to
 * host's log from now on (trace.inc calls it on every ICorProfiler*Enum it hands out). */
void ilg__trace_enum(ilg_host *host, void *iface);
/* HRESULT as text: its name when it is one the profiling API uses, else hex. */
const char *ilg__trace_hr_name(HRESULT hr, char buf[16]);

#endif
