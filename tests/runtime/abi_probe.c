/* abi_probe.c: a minimal CLR profiler, written against ilgraft/corprof.h alone (no
 * ilgraft library), that proves the header against a real CoreCLR. It implements
 * ICorProfilerCallback3 (every slot), and the calls it makes through ICorProfilerInfo3
 * and IMetaDataImport cross-check each other: a function id from a callback must map
 * back to the method whose IL the runtime compiles, the first address of its code must
 * map back to the same function id, a thrown object's class must be FormatException,
 * GC root kinds must be root kinds, and so on. A slot that slipped would make the
 * runtime call the wrong function with the wrong arguments, or answer a call with
 * something else's result; either shows up as a failed check, garbage or a crash.
 *
 * Environment:
 *   ILG_ABI_PROBE_LOG      log file (one line per event; default stderr)
 *   ILG_ABI_PROBE_REWRITE  "1": give Hello.Program::Answer a new IL body that returns
 *                          42 instead of 41 (GetILFunctionBodyAllocator + SetILFunctionBody)
 *   ILG_ABI_PROBE_TRANSITIONS  "0": leave COR_PRF_MONITOR_CODE_TRANSITIONS off. That flag
 *                          makes the runtime refuse ReadyToRun code (it is part of
 *                          COR_PRF_REQUIRE_PROFILE_IMAGE), so with it every method is
 *                          JIT-compiled; without it precompiled code is used and the
 *                          JITCachedFunctionSearch* callbacks fire instead.
 *   ILG_ABI_PROBE_MAX_CALLBACK  "1" or "2": answer QueryInterface only up to that
 *                          ICorProfilerCallback version (to watch the runtime refuse it);
 *                          "4".."11": up to that version, with the vtable of
 *                          abi_callback11.c (LoadAsNotificationOnly logged)
 *   ILG_ABI_PROBE_NOTIFICATION_ONLY  "1": LoadAsNotificationOnly answers TRUE
 *   ILG_ABI_PROBE_CONFORM  "1": also make the conformance calls (abi_conform.c) and log
 *                          their answers as CONF lines, to compare a runtime with the host
 *   ILG_ABI_PROBE_HIGH     a hexadecimal COR_PRF_HIGH_MONITOR mask set with SetEventMask2
 *                          in Initialize (0x8: COR_PRF_HIGH_DISABLE_TIERED_COMPILATION,
 *                          as New Relic's profiler sets it)
 *   ILG_ABI_PROBE_NOOPT    "1": add COR_PRF_DISABLE_OPTIMIZATIONS to the event mask
 *
 * The log's last line is "PASS" when every call returned what it should and every
 * expected event came, else "FAIL <n>" after the lines starting with "FAIL:". */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "abi_conform.h"
#include "ilgraft/corprof.h"

#define PROBE_EXPORT __attribute__((visibility("default")))

/* {7C0C5F1E-5A4B-4E55-9C3A-1F2B3C4D5E6F}: the probe's CLSID (CORECLR_PROFILER). */
static const CLSID CLSID_IlgAbiProbe =
    COM_GUID_INIT(0x7C0C5F1E, 0x5A4B, 0x4E55, 0x9C, 0x3A, 0x1F, 0x2B, 0x3C, 0x4D, 0x5E, 0x6F);

#define NAME_CAP 1024
#define SLOT_COUNT 83

/* A GUID in registry text form (corprof.h has no formatter; this probe uses nothing
 * of ilgraft's). */
#define GUID_TEXT_SIZE 37
static char *guid_text(const GUID *g, char buf[GUID_TEXT_SIZE])
{
    snprintf(buf, GUID_TEXT_SIZE, "%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X",
             (unsigned)g->Data1, (unsigned)g->Data2, (unsigned)g->Data3, g->Data4[0],
             g->Data4[1], g->Data4[2], g->Data4[3], g->Data4[4], g->Data4[5], g->Data4[6],
             g->Data4[7]);
    return buf;
}

/* The events the run must produce (checked at Shutdown). */
enum seen_bit {
    SEEN_CORELIB_LOADED, SEEN_HELLO_LOADED, SEEN_HELLO_ATTACHED, SEEN_HELLO_ASSEMBLY,
    SEEN_APPDOMAIN, SEEN_MAIN_JIT, SEEN_MAIN_JIT_FINISHED, SEEN_MAIN_CODE_CHECKED,
    SEEN_SQUARE_JIT, SEEN_FORMAT_EXCEPTION, SEEN_CATCHER_FOUND, SEEN_CATCHER_ENTER,
    SEEN_UNWIND_SAFEPARSE, SEEN_INDUCED_GC, SEEN_GC_FINISHED, SEEN_ROOTS, SEEN_THREAD_NAME,
    SEEN_HANDLE_DESTROYED, SEEN_FINALIZABLE_QUEUED, SEEN_METADATA_TOUR, SEEN_STACK_SNAPSHOT,
    SEEN_CLASS_PROGRAM, SEEN_THREAD_CREATED, SEEN_SUSPEND, SEEN_TRANSITION, SEEN_CACHE_SEARCH,
    SEEN_COUNT
};
static const char *const seen_names[SEEN_COUNT] = {
    "ModuleLoadFinished(System.Private.CoreLib)", "ModuleLoadFinished(Hello)",
    "ModuleAttachedToAssembly(Hello)", "AssemblyLoadFinished(Hello)",
    "AppDomainCreationFinished", "JITCompilationStarted(Main)", "JITCompilationFinished(Main)",
    "GetCodeInfo2/GetFunctionFromIP(Main)", "JITCompilationStarted(Square)",
    "ExceptionThrown(System.FormatException)", "ExceptionSearchCatcherFound(SafeParse)",
    "ExceptionCatcherEnter(SafeParse)", "ExceptionUnwindFunctionEnter(SafeParse)",
    "GarbageCollectionStarted(induced)", "GarbageCollectionFinished", "RootReferences2",
    "ThreadNameChanged(ilgraft-main)", "HandleDestroyed", "FinalizeableObjectQueued(Finalizable)",
    "IMetaDataImport tour of Hello.dll", "DoStackSnapshot(Main on the stack)",
    "ClassLoadFinished(Hello.Program)", "ThreadCreated", "RuntimeSuspendStarted(GC)",
    "Managed/UnmanagedTransition", "JITCachedFunctionSearchFinished(found)",
};

typedef struct probe {
    ICorProfilerCallback3 ICorProfilerCallback3_iface;
    atomic_uint refs;
    ICorProfilerInfo3 *info;
    ICorProfilerInfo15 *info15; /* conformance mode only */
    bool conform_main_done;
    bool rewrite;
    bool transitions;          /* COR_PRF_MONITOR_CODE_TRANSITIONS on */
    int max_callback;          /* highest ICorProfilerCallback version QI accepts */
    DWORD high;                /* SetEventMask2's high half (ILG_ABI_PROBE_HIGH) */
    bool noopt;                /* COR_PRF_DISABLE_OPTIMIZATIONS on */
    pthread_mutex_t lock;      /* guards everything below */
    unsigned failures;
    bool seen[SEEN_COUNT];
    unsigned long counts[SLOT_COUNT];
    ModuleID hello_module;
    ModuleID corelib_module;
    FunctionID main_fid;
    mdMethodDef main_token;
    unsigned long gc_roots, gc_objects, gc_moved, gc_surviving, gc_started, gc_finished;
    bool resuming;             /* between RuntimeResumeStarted and RuntimeResumeFinished */
    ThreadID suspended[256];   /* RuntimeThreadSuspended and not yet resumed */
    size_t suspended_count;
    GCHandleID handles[4096];  /* handles created since the last check, to pair destroys */
    size_t handle_count;
} probe;

static FILE *log_file;
/* Set while CreateInstance runs, to tell its own QueryInterface from the runtime's. */
static _Thread_local bool in_create_instance;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static void open_log(void)
{
    pthread_mutex_lock(&log_lock);
    if (!log_file) {
        const char *path = getenv("ILG_ABI_PROBE_LOG");
        log_file = path && *path ? fopen(path, "w") : NULL;
        if (!log_file)
            log_file = stderr;
        setvbuf(log_file, NULL, _IOLBF, 0);
    }
    pthread_mutex_unlock(&log_lock);
}

static void vplog(const char *fmt, va_list ap)
{
    open_log();
    pthread_mutex_lock(&log_lock);
    vfprintf(log_file, fmt, ap);
    fputc('\n', log_file);
    fflush(log_file);
    pthread_mutex_unlock(&log_lock);
}

static void plog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void plog(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(fmt, ap);
    va_end(ap);
}

void probe_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vplog(fmt, ap);
    va_end(ap);
}

static void fail(probe *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(probe *p, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&p->lock);
    p->failures++;
    pthread_mutex_unlock(&p->lock);
    plog("FAIL: %s", msg);
}

/* hr must equal want; false (and a FAIL line) otherwise. */
static bool expect_hr(probe *p, const char *what, HRESULT hr, HRESULT want)
{
    if (hr == want)
        return true;
    fail(p, "%s returned 0x%08X, expected 0x%08X", what, (unsigned)hr, (unsigned)want);
    return false;
}

static unsigned failures_so_far(probe *p)
{
    pthread_mutex_lock(&p->lock);
    unsigned n = p->failures;
    pthread_mutex_unlock(&p->lock);
    return n;
}

static void mark(probe *p, enum seen_bit bit)
{
    pthread_mutex_lock(&p->lock);
    p->seen[bit] = true;
    pthread_mutex_unlock(&p->lock);
}

static void count(probe *p, unsigned slot)
{
    pthread_mutex_lock(&p->lock);
    p->counts[slot]++;
    pthread_mutex_unlock(&p->lock);
}

/* UTF-16 (n units, or up to a NUL when n is SIZE_MAX) to UTF-8 in out. */
static const char *utf8(const WCHAR *w, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && w[i] && o + 5 < cap; i++) {
        uint32_t c = w[i];
        if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && w[i + 1] >= 0xDC00 && w[i + 1] < 0xE000)
            c = 0x10000 + ((c - 0xD800) << 10) + (w[++i] - 0xDC00u);
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    out[o] = 0;
    return out;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool wide_eq(const WCHAR *w, const char *ascii)
{
    size_t i = 0;
    for (; ascii[i]; i++)
        if (w[i] != (WCHAR)(unsigned char)ascii[i])
            return false;
    return w[i] == 0;
}

static probe *impl_from_ICorProfilerCallback3(ICorProfilerCallback3 *iface)
{
    return (probe *)((char *)iface - offsetof(probe, ICorProfilerCallback3_iface));
}

/* ---- names of things ---------------------------------------------------------------- */

typedef struct method_desc {
    ModuleID module;
    ClassID klass;
    mdMethodDef token;
    mdTypeDef type_token;
    ULONG rva;
    char module_name[NAME_CAP];   /* base name */
    char type[NAME_CAP];
    char method[NAME_CAP];
    char full[2 * NAME_CAP + 4];  /* Type::Method */
} method_desc;

/* Module file name (base name) of a module; "" when the call fails. */
static void module_base_name(probe *p, ModuleID mod, char *out, size_t cap)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    LPCBYTE base = NULL;
    AssemblyID asm_id = 0;
    char path[NAME_CAP];
    out[0] = 0;
    HRESULT hr = p->info->lpVtbl->GetModuleInfo(p->info, mod, &base, NAME_CAP, &len, name, &asm_id);
    if (!expect_hr(p, "GetModuleInfo", hr, S_OK))
        return;
    snprintf(out, cap, "%s", base_name(utf8(name, len, path, sizeof path)));
}

/* Type name of a TypeDef through an IMetaDataImport. */
static bool type_name(probe *p, IMetaDataImport *md, mdTypeDef td, char *out, size_t cap)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    DWORD flags = 0;
    mdToken extends = 0;
    HRESULT hr = md->lpVtbl->GetTypeDefProps(md, td, name, NAME_CAP, &len, &flags, &extends);
    if (!expect_hr(p, "GetTypeDefProps", hr, S_OK)) {
        snprintf(out, cap, "?");
        return false;
    }
    utf8(name, len, out, cap);
    return true;
}

/* Everything about a FunctionID, through GetFunctionInfo, GetTokenAndMetaDataFromFunction,
 * GetMethodProps, GetTypeDefProps and GetModuleInfo; the two token sources must agree. */
static bool describe_function(probe *p, FunctionID fid, method_desc *d)
{
    memset(d, 0, sizeof *d);
    ICorProfilerInfo3 *info = p->info;
    mdToken tok = 0;
    HRESULT hr = info->lpVtbl->GetFunctionInfo(info, fid, &d->klass, &d->module, &tok);
    if (!expect_hr(p, "GetFunctionInfo", hr, S_OK))
        return false;
    IUnknown *unk = NULL;
    mdToken tok2 = 0;
    hr = info->lpVtbl->GetTokenAndMetaDataFromFunction(info, fid, &IID_IMetaDataImport, &unk, &tok2);
    if (!expect_hr(p, "GetTokenAndMetaDataFromFunction", hr, S_OK))
        return false;
    if (tok != tok2 || TypeFromToken(tok) != mdtMethodDef)
        fail(p, "fid 0x%lx: GetFunctionInfo token 0x%08X, GetTokenAndMetaDataFromFunction 0x%08X",
             (unsigned long)fid, (unsigned)tok, (unsigned)tok2);
    d->token = tok2;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    WCHAR name[NAME_CAP];
    ULONG len = 0, sig_len = 0;
    DWORD attr = 0, impl = 0;
    PCCOR_SIGNATURE sig = NULL;
    hr = md->lpVtbl->GetMethodProps(md, d->token, &d->type_token, name, NAME_CAP, &len, &attr, &sig,
                                    &sig_len, &d->rva, &impl);
    bool ok = expect_hr(p, "GetMethodProps", hr, S_OK);
    if (ok) {
        utf8(name, len, d->method, sizeof d->method);
        if (!sig || sig_len == 0)
            fail(p, "GetMethodProps(0x%08X) gave no signature", (unsigned)d->token);
        if (TypeFromToken(d->type_token) != mdtTypeDef)
            fail(p, "GetMethodProps(0x%08X) class token 0x%08X", (unsigned)d->token,
                 (unsigned)d->type_token);
        else if (RidFromToken(d->type_token) == 1)
            snprintf(d->type, sizeof d->type, "<Module>");
        else
            ok = type_name(p, md, d->type_token, d->type, sizeof d->type);
    }
    md->lpVtbl->Release(md);
    module_base_name(p, d->module, d->module_name, sizeof d->module_name);
    snprintf(d->full, sizeof d->full, "%s::%s", d->type, d->method);
    return ok;
}

static bool is_hello(const method_desc *d, const char *full)
{
    return strcmp(d->module_name, "Hello.dll") == 0 && strcmp(d->full, full) == 0;
}

/* Class of an object, as module + type name (GetClassFromObject, GetClassIDInfo,
 * GetModuleMetaData, GetTypeDefProps). */
static bool object_type(probe *p, ObjectID obj, ClassID *klass, char *out, size_t cap)
{
    ICorProfilerInfo3 *info = p->info;
    ClassID cls = 0;
    ModuleID mod = 0;
    mdTypeDef td = 0;
    snprintf(out, cap, "?");
    if (!expect_hr(p, "GetClassFromObject", info->lpVtbl->GetClassFromObject(info, obj, &cls), S_OK))
        return false;
    if (klass)
        *klass = cls;
    HRESULT hr = info->lpVtbl->GetClassIDInfo(info, cls, &mod, &td);
    if (!expect_hr(p, "GetClassIDInfo", hr, S_OK))
        return false;
    IUnknown *unk = NULL;
    hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
    if (!expect_hr(p, "GetModuleMetaData", hr, S_OK))
        return false;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    bool ok = type_name(p, md, td, out, cap);
    md->lpVtbl->Release(md);
    return ok;
}

/* ---- the IMetaDataImport tour of Hello.dll ------------------------------------------ */

static mdToken find_method(probe *p, IMetaDataImport *md, mdTypeDef td, const char *want,
                           PCCOR_SIGNATURE *sig, ULONG *sig_len, ULONG *rva)
{
    HCORENUM e = NULL;
    mdMethodDef toks[64];
    ULONG n = 0;
    mdToken found = 0;
    HRESULT hr = md->lpVtbl->EnumMethods(md, &e, td, toks, 64, &n);
    expect_hr(p, "EnumMethods", hr, S_OK);
    for (ULONG i = 0; i < n; i++) {
        WCHAR name[NAME_CAP];
        ULONG len = 0;
        DWORD attr, impl;
        mdTypeDef cls = 0;
        hr = md->lpVtbl->GetMethodProps(md, toks[i], &cls, name, NAME_CAP, &len, &attr, sig, sig_len,
                                        rva, &impl);
        if (expect_hr(p, "GetMethodProps", hr, S_OK) && wide_eq(name, want)) {
            if (cls != td)
                fail(p, "GetMethodProps(%s): class 0x%08X, want 0x%08X", want, (unsigned)cls,
                     (unsigned)td);
            found = toks[i];
            break;
        }
    }
    md->lpVtbl->CloseEnum(md, e);
    return found;
}

static void metadata_tour(probe *p, ModuleID mod)
{
    ICorProfilerInfo3 *info = p->info;
    IUnknown *unk = NULL;
    HRESULT hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
    if (!expect_hr(p, "GetModuleMetaData(Hello)", hr, S_OK))
        return;
    IMetaDataImport *md = (IMetaDataImport *)unk;
    char buf[NAME_CAP];
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    unsigned before = failures_so_far(p);

    GUID mvid;
    memset(&mvid, 0, sizeof mvid);
    hr = md->lpVtbl->GetScopeProps(md, name, NAME_CAP, &len, &mvid);
    if (expect_hr(p, "GetScopeProps", hr, S_OK)) {
        char g[GUID_TEXT_SIZE];
        plog("MetaData GetScopeProps name=%s mvid=%s", utf8(name, len, buf, sizeof buf),
             guid_text(&mvid, g));
        if (strcmp(buf, "Hello.dll") != 0)
            fail(p, "GetScopeProps name %s", buf);
        static const GUID zero;
        if (IsEqualGUID(&mvid, &zero))
            fail(p, "GetScopeProps: MVID is all zero");
    }
    /* A name that does not fit is truncated with CLDB_S_TRUNCATION. */
    WCHAR tiny[4];
    ULONG need = 0;
    hr = md->lpVtbl->GetScopeProps(md, tiny, 4, &need, NULL);
    expect_hr(p, "GetScopeProps(4-char buffer)", hr, CLDB_S_TRUNCATION);
    if (need != 10)   /* "Hello.dll" and its NUL */
        fail(p, "GetScopeProps(4-char buffer): length %u, want 10", (unsigned)need);

    mdModule module_tok = 0;
    expect_hr(p, "GetModuleFromScope", md->lpVtbl->GetModuleFromScope(md, &module_tok), S_OK);
    if (module_tok != mdtModule + 1)
        fail(p, "GetModuleFromScope: 0x%08X", (unsigned)module_tok);

    mdTypeDef program = 0;
    hr = md->lpVtbl->FindTypeDefByName(md, u"Hello.Program", mdTokenNil, &program);
    expect_hr(p, "FindTypeDefByName(Hello.Program)", hr, S_OK);
    mdTypeDef nothing = 0;
    hr = md->lpVtbl->FindTypeDefByName(md, u"Hello.NoSuchType", mdTokenNil, &nothing);
    expect_hr(p, "FindTypeDefByName(Hello.NoSuchType)", hr, CLDB_E_RECORD_NOTFOUND);

    DWORD flags = 0;
    mdToken extends = 0;
    hr = md->lpVtbl->GetTypeDefProps(md, program, name, NAME_CAP, &len, &flags, &extends);
    if (expect_hr(p, "GetTypeDefProps(Program)", hr, S_OK)) {
        plog("MetaData GetTypeDefProps token=0x%08X flags=0x%08X extends=0x%08X name=%s",
             (unsigned)program, (unsigned)flags, (unsigned)extends, utf8(name, len, buf, sizeof buf));
        if (strcmp(buf, "Hello.Program") != 0)
            fail(p, "GetTypeDefProps(0x%08X) name %s", (unsigned)program, buf);
        /* static class: abstract | sealed (0x80 | 0x100) */
        if ((flags & 0x180) != 0x180)
            fail(p, "GetTypeDefProps(Program) flags 0x%08X lack abstract|sealed", (unsigned)flags);
    }
    if (TypeFromToken(extends) == mdtTypeRef) {
        mdToken scope = 0;
        hr = md->lpVtbl->GetTypeRefProps(md, extends, &scope, name, NAME_CAP, &len);
        if (expect_hr(p, "GetTypeRefProps(base)", hr, S_OK) &&
            strcmp(utf8(name, len, buf, sizeof buf), "System.Object") != 0)
            fail(p, "Hello.Program extends %s, not System.Object", buf);
    } else {
        fail(p, "Hello.Program extends 0x%08X, not a TypeRef", (unsigned)extends);
    }

    /* Enumerators: count, reset, re-read. */
    HCORENUM e = NULL;
    mdTypeDef tds[64];
    ULONG n = 0, total = 0;
    hr = md->lpVtbl->EnumTypeDefs(md, &e, tds, 64, &n);
    expect_hr(p, "EnumTypeDefs", hr, S_OK);
    expect_hr(p, "CountEnum", md->lpVtbl->CountEnum(md, e, &total), S_OK);
    bool has_program = false;
    for (ULONG i = 0; i < n; i++)
        has_program |= tds[i] == program;
    if (!has_program || total != n || n < 2)
        fail(p, "EnumTypeDefs: %u of %u, Program %s", (unsigned)n, (unsigned)total,
             has_program ? "found" : "missing");
    expect_hr(p, "ResetEnum", md->lpVtbl->ResetEnum(md, e, 0), S_OK);
    mdTypeDef again[64];
    ULONG n2 = 0;
    hr = md->lpVtbl->EnumTypeDefs(md, &e, again, 64, &n2);
    if (!expect_hr(p, "EnumTypeDefs after ResetEnum", hr, S_OK) || n2 != n ||
        memcmp(again, tds, n * sizeof tds[0]) != 0)
        fail(p, "EnumTypeDefs after ResetEnum gave %u tokens, want the same %u", (unsigned)n2,
             (unsigned)n);
    md->lpVtbl->CloseEnum(md, e);
    plog("MetaData EnumTypeDefs count=%u", (unsigned)n);

    PCCOR_SIGNATURE main_sig = NULL;
    ULONG main_sig_len = 0, main_rva = 0;
    mdMethodDef main_tok = find_method(p, md, program, "Main", &main_sig, &main_sig_len, &main_rva);
    if (!main_tok) {
        fail(p, "EnumMethods(Hello.Program) has no Main");
        goto done;
    }
    pthread_mutex_lock(&p->lock);
    p->main_token = main_tok;
    pthread_mutex_unlock(&p->lock);
    plog("MetaData Main token=0x%08X rva=0x%X sig_len=%u", (unsigned)main_tok, (unsigned)main_rva,
         (unsigned)main_sig_len);
    mdMethodDef found = 0;
    hr = md->lpVtbl->FindMethod(md, program, u"Main", main_sig, main_sig_len, &found);
    if (expect_hr(p, "FindMethod(Main, sig)", hr, S_OK) && found != main_tok)
        fail(p, "FindMethod(Main) gave 0x%08X, want 0x%08X", (unsigned)found, (unsigned)main_tok);
    mdToken member = 0;
    hr = md->lpVtbl->FindMember(md, program, u"Main", main_sig, main_sig_len, &member);
    if (expect_hr(p, "FindMember(Main, sig)", hr, S_OK) && member != main_tok)
        fail(p, "FindMember(Main) gave 0x%08X", (unsigned)member);
    ULONG rva = 0;
    DWORD impl = 0;
    hr = md->lpVtbl->GetRVA(md, main_tok, &rva, &impl);
    if (expect_hr(p, "GetRVA(Main)", hr, S_OK) && rva != main_rva)
        fail(p, "GetRVA(Main) 0x%X, GetMethodProps 0x%X", (unsigned)rva, (unsigned)main_rva);

    e = NULL;
    mdMethodDef answers[4];
    hr = md->lpVtbl->EnumMethodsWithName(md, &e, program, u"Answer", answers, 4, &n);
    if (expect_hr(p, "EnumMethodsWithName(Answer)", hr, S_OK) && n != 1)
        fail(p, "EnumMethodsWithName(Answer): %u methods", (unsigned)n);
    md->lpVtbl->CloseEnum(md, e);

    mdParamDef param = 0;
    hr = md->lpVtbl->GetParamForMethodIndex(md, main_tok, 1, &param);
    if (expect_hr(p, "GetParamForMethodIndex(Main, 1)", hr, S_OK)) {
        mdMethodDef owner = 0;
        ULONG seq = 0;
        DWORD pattr = 0, ctype = 0;
        UVCP_CONSTANT value = NULL;
        ULONG vlen = 0;
        hr = md->lpVtbl->GetParamProps(md, param, &owner, &seq, name, NAME_CAP, &len, &pattr,
                                       &ctype, &value, &vlen);
        if (expect_hr(p, "GetParamProps", hr, S_OK) &&
            (owner != main_tok || seq != 1 || strcmp(utf8(name, len, buf, sizeof buf), "args") != 0))
            fail(p, "GetParamProps: owner 0x%08X seq %u name %s", (unsigned)owner, (unsigned)seq,
                 buf);
    }

    if (!md->lpVtbl->IsValidToken(md, main_tok) || md->lpVtbl->IsValidToken(md, 0x06FFFFFFu))
        fail(p, "IsValidToken answers wrongly");
    int global = -1;
    hr = md->lpVtbl->IsGlobal(md, main_tok, &global);
    if (expect_hr(p, "IsGlobal(Main)", hr, S_OK) && global != 0)
        fail(p, "IsGlobal(Main) = %d", global);
    mdTypeDef encloser = 0;
    hr = md->lpVtbl->GetNestedClassProps(md, program, &encloser);
    expect_hr(p, "GetNestedClassProps(Program)", hr, CLDB_E_RECORD_NOTFOUND);
    MDUTF8CSTR utf8name = NULL;
    hr = md->lpVtbl->GetNameFromToken(md, program, &utf8name);
    if (expect_hr(p, "GetNameFromToken(Program)", hr, S_OK) &&
        (!utf8name || strcmp(utf8name, "Program") != 0))
        fail(p, "GetNameFromToken(Program) = %s", utf8name ? utf8name : "(null)");

    /* Main's locals signature through its fat header's LocalVarSigTok. */
    LPCBYTE body = NULL;
    ULONG body_size = 0;
    hr = info->lpVtbl->GetILFunctionBody(info, mod, main_tok, &body, &body_size);
    if (expect_hr(p, "GetILFunctionBody(Main)", hr, S_OK) && body && (body[0] & 3) == 3) {
        mdSignature locals = (mdSignature)(body[8] | body[9] << 8 | body[10] << 16 |
                                           (uint32_t)body[11] << 24);
        PCCOR_SIGNATURE lsig = NULL;
        ULONG lsig_len = 0;
        hr = md->lpVtbl->GetSigFromToken(md, locals, &lsig, &lsig_len);
        if (expect_hr(p, "GetSigFromToken(locals)", hr, S_OK) &&
            (TypeFromToken(locals) != mdtSignature || lsig_len < 2 || lsig[0] != 0x07))
            fail(p, "GetSigFromToken(0x%08X): %u bytes, first 0x%02X", (unsigned)locals,
                 (unsigned)lsig_len, lsig_len ? lsig[0] : 0);
        plog("MetaData Main locals=0x%08X", (unsigned)locals);
    } else if (body) {
        fail(p, "Main's header 0x%02X is not fat", body[0]);
    }

    /* User strings: the greeting is one of them. */
    e = NULL;
    mdString strs[64];
    hr = md->lpVtbl->EnumUserStrings(md, &e, strs, 64, &n);
    expect_hr(p, "EnumUserStrings", hr, S_OK);
    bool greeting = false;
    for (ULONG i = 0; i < n; i++) {
        hr = md->lpVtbl->GetUserString(md, strs[i], name, NAME_CAP, &len);
        if (!expect_hr(p, "GetUserString", hr, S_OK))
            break;
        /* user strings are counted, not NUL-terminated */
        greeting |= strcmp(utf8(name, len, buf, sizeof buf), "Hello from ilgraft") == 0;
    }
    md->lpVtbl->CloseEnum(md, e);
    if (!greeting)
        fail(p, "GetUserString: no \"Hello from ilgraft\" among %u strings", (unsigned)n);

    /* System.Console's member refs include WriteLine. */
    e = NULL;
    mdTypeRef trs[128];
    mdTypeRef console = 0;
    mdToken console_scope = 0;
    hr = md->lpVtbl->EnumTypeRefs(md, &e, trs, 128, &n);
    expect_hr(p, "EnumTypeRefs", hr, S_OK);
    for (ULONG i = 0; i < n && !console; i++) {
        mdToken scope = 0;
        hr = md->lpVtbl->GetTypeRefProps(md, trs[i], &scope, name, NAME_CAP, &len);
        if (expect_hr(p, "GetTypeRefProps", hr, S_OK) && wide_eq(name, "System.Console")) {
            console = trs[i];
            console_scope = scope;
        }
    }
    md->lpVtbl->CloseEnum(md, e);
    if (!console) {
        fail(p, "EnumTypeRefs: no System.Console");
    } else {
        mdTypeRef again_tr = 0;
        hr = md->lpVtbl->FindTypeRef(md, console_scope, u"System.Console", &again_tr);
        if (expect_hr(p, "FindTypeRef(System.Console)", hr, S_OK) && again_tr != console)
            fail(p, "FindTypeRef gave 0x%08X, want 0x%08X", (unsigned)again_tr, (unsigned)console);
        e = NULL;
        mdMemberRef mrs[32];
        hr = md->lpVtbl->EnumMemberRefs(md, &e, console, mrs, 32, &n);
        expect_hr(p, "EnumMemberRefs(System.Console)", hr, S_OK);
        bool writeline = false;
        for (ULONG i = 0; i < n; i++) {
            mdToken parent = 0;
            PCCOR_SIGNATURE msig = NULL;
            ULONG msig_len = 0;
            hr = md->lpVtbl->GetMemberRefProps(md, mrs[i], &parent, name, NAME_CAP, &len, &msig,
                                               &msig_len);
            if (!expect_hr(p, "GetMemberRefProps", hr, S_OK))
                break;
            if (parent != console || !msig || msig_len < 3)
                fail(p, "GetMemberRefProps(0x%08X): parent 0x%08X, %u signature bytes",
                     (unsigned)mrs[i], (unsigned)parent, (unsigned)msig_len);
            writeline |= wide_eq(name, "WriteLine");
        }
        md->lpVtbl->CloseEnum(md, e);
        if (!writeline)
            fail(p, "EnumMemberRefs(System.Console): no WriteLine among %u", (unsigned)n);
    }

    /* The assembly's custom attributes: TargetFrameworkAttribute is there. */
    const void *blob = NULL;
    ULONG blob_len = 0;
    hr = md->lpVtbl->GetCustomAttributeByName(md, mdtAssembly + 1,
                                              u"System.Runtime.Versioning.TargetFrameworkAttribute",
                                              &blob, &blob_len);
    if (expect_hr(p, "GetCustomAttributeByName(TargetFramework)", hr, S_OK) &&
        (blob_len < 2 || ((const BYTE *)blob)[0] != 1 || ((const BYTE *)blob)[1] != 0))
        fail(p, "TargetFrameworkAttribute blob: %u bytes", (unsigned)blob_len);
    e = NULL;
    mdCustomAttribute cas[32];
    hr = md->lpVtbl->EnumCustomAttributes(md, &e, mdtAssembly + 1, 0, cas, 32, &n);
    if (expect_hr(p, "EnumCustomAttributes(assembly)", hr, S_OK) && n > 0) {
        mdToken obj = 0, type = 0;
        hr = md->lpVtbl->GetCustomAttributeProps(md, cas[0], &obj, &type, &blob, &blob_len);
        if (expect_hr(p, "GetCustomAttributeProps", hr, S_OK) && obj != mdtAssembly + 1)
            fail(p, "GetCustomAttributeProps: owner 0x%08X", (unsigned)obj);
    }
    md->lpVtbl->CloseEnum(md, e);

    /* IMetaDataImport2 on the same object. */
    IMetaDataImport2 *md2 = NULL;
    hr = md->lpVtbl->QueryInterface(md, &IID_IMetaDataImport2, (void **)&md2);
    if (expect_hr(p, "QueryInterface(IMetaDataImport2)", hr, S_OK)) {
        WCHAR ver[64];
        DWORD vlen = 0;
        hr = md2->lpVtbl->GetVersionString(md2, ver, 64, &vlen);
        if (expect_hr(p, "GetVersionString", hr, S_OK)) {
            plog("MetaData GetVersionString %s", utf8(ver, vlen, buf, sizeof buf));
            if (strncmp(buf, "v4.0.30319", 10) != 0)
                fail(p, "GetVersionString: %s", buf);
        }
        DWORD kind = 0xDEAD, machine = 0xDEAD;
        hr = md2->lpVtbl->GetPEKind(md2, &kind, &machine);
        plog("MetaData GetPEKind hr=0x%08X kind=0x%X machine=0x%X", (unsigned)hr, (unsigned)kind,
             (unsigned)machine);
        /* CoreCLR answers S_FALSE with zeros here (its runtime metadata carries no PE
         * header); what matters is that the slot took two out-parameters and wrote them. */
        if (FAILED(hr) || kind == 0xDEAD || machine == 0xDEAD)
            fail(p, "GetPEKind: hr 0x%08X, outputs %s", (unsigned)hr,
                 kind == 0xDEAD || machine == 0xDEAD ? "unwritten" : "written");
        e = NULL;
        mdGenericParam gps[4];
        hr = md2->lpVtbl->EnumGenericParams(md2, &e, program, gps, 4, &n);
        if (!(hr == S_FALSE && n == 0))
            fail(p, "EnumGenericParams(Program) hr 0x%08X n %u, want S_FALSE and none",
                 (unsigned)hr, (unsigned)n);
        md2->lpVtbl->CloseEnum(md2, e);
        md2->lpVtbl->Release(md2);
    }

done:
    md->lpVtbl->Release(md);
    if (failures_so_far(p) == before)
        mark(p, SEEN_METADATA_TOUR);
}

/* ---- IUnknown ------------------------------------------------------------------------ */

static const struct {
    const IID *iid;
    const char *name;
} known_iids[] = {
    { &IID_IUnknown, "IUnknown" },
    { &IID_ICorProfilerCallback, "ICorProfilerCallback" },
    { &IID_ICorProfilerCallback2, "ICorProfilerCallback2" },
    { &IID_ICorProfilerCallback3, "ICorProfilerCallback3" },
    { &IID_ICorProfilerCallback4, "ICorProfilerCallback4" },
    { &IID_ICorProfilerCallback5, "ICorProfilerCallback5" },
    { &IID_ICorProfilerCallback6, "ICorProfilerCallback6" },
    { &IID_ICorProfilerCallback7, "ICorProfilerCallback7" },
    { &IID_ICorProfilerCallback8, "ICorProfilerCallback8" },
    { &IID_ICorProfilerCallback9, "ICorProfilerCallback9" },
    { &IID_ICorProfilerCallback10, "ICorProfilerCallback10" },
    { &IID_ICorProfilerCallback11, "ICorProfilerCallback11" },
    { &IID_IClassFactory, "IClassFactory" },
};

static const char *iid_name(REFIID riid)
{
    for (size_t i = 0; i < sizeof known_iids / sizeof known_iids[0]; i++)
        if (IsEqualGUID(riid, known_iids[i].iid))
            return known_iids[i].name;
    return "?";
}

/* ICorProfilerCallback4..max (max up to 11; abi_callback11.c extends the vtable). */
static bool newer_callback(REFIID riid, int max)
{
    static const IID *const newer[] = { &IID_ICorProfilerCallback4, &IID_ICorProfilerCallback5,
                                        &IID_ICorProfilerCallback6, &IID_ICorProfilerCallback7,
                                        &IID_ICorProfilerCallback8, &IID_ICorProfilerCallback9,
                                        &IID_ICorProfilerCallback10,
                                        &IID_ICorProfilerCallback11 };
    enum { FIRST_NEWER = 4 };
    for (int v = FIRST_NEWER; v <= max && v - FIRST_NEWER < (int)(sizeof newer / sizeof newer[0]); v++)
        if (IsEqualGUID(riid, newer[v - FIRST_NEWER]))
            return true;
    return false;
}

static HRESULT cb_QueryInterface(ICorProfilerCallback3 *iface, REFIID riid, void **ppv)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char g[GUID_TEXT_SIZE];
    HRESULT hr = E_NOINTERFACE;
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_ICorProfilerCallback) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback2) && p->max_callback >= 2) ||
        (IsEqualGUID(riid, &IID_ICorProfilerCallback3) && p->max_callback >= 3) ||
        newer_callback(riid, p->max_callback)) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        hr = S_OK;
    }
    plog("CallbackQI iid=%s name=%s hr=0x%08X from=%s", guid_text(riid, g), iid_name(riid),
         (unsigned)hr, in_create_instance ? "CreateInstance" : "runtime");
    return hr;
}

static ULONG cb_AddRef(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    return atomic_fetch_add(&p->refs, 1) + 1;
}

static ULONG cb_Release(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ULONG left = atomic_fetch_sub(&p->refs, 1) - 1;
    if (left == 0) {
        plog("Release: last reference (failures %u)", p->failures);
        if (p->info)
            p->info->lpVtbl->Release(p->info);
        if (p->info15)
            p->info15->lpVtbl->Release(p->info15);
        pthread_mutex_destroy(&p->lock);
        free(p);
    }
    return left;
}

/* ---- startup and shutdown ------------------------------------------------------------ */

/* SetEventMask2(mask, p->high) through ICorProfilerInfo5, read back with GetEventMask2. */
static void set_high_mask(probe *p, IUnknown *unk, DWORD mask)
{
    ICorProfilerInfo5 *info5 = NULL;
    if (!expect_hr(p, "QueryInterface(ICorProfilerInfo5)",
                   unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo5, (void **)&info5), S_OK))
        return;
    DWORD low = 0, high = 0;
    expect_hr(p, "SetEventMask2", info5->lpVtbl->SetEventMask2(info5, mask, p->high), S_OK);
    expect_hr(p, "GetEventMask2", info5->lpVtbl->GetEventMask2(info5, &low, &high), S_OK);
    plog("EventMaskHigh set=0x%X get=0x%X", (unsigned)p->high, (unsigned)high);
    if (low != mask || high != p->high)
        fail(p, "GetEventMask2 gave 0x%08X/0x%X after SetEventMask2(0x%08X, 0x%X)", (unsigned)low,
             (unsigned)high, (unsigned)mask, (unsigned)p->high);
    info5->lpVtbl->Release(info5);
}

static HRESULT cb_Initialize(ICorProfilerCallback3 *iface, IUnknown *unk)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 3);
    plog("Initialize pid=%d", (int)getpid());
    startup_initialize();
    /* Which ICorProfilerInfo versions the runtime hands out. */
    static const IID *const infos[] = {
        &IID_ICorProfilerInfo, &IID_ICorProfilerInfo2, &IID_ICorProfilerInfo3,
        &IID_ICorProfilerInfo4, &IID_ICorProfilerInfo5, &IID_ICorProfilerInfo6,
        &IID_ICorProfilerInfo7, &IID_ICorProfilerInfo8, &IID_ICorProfilerInfo9,
        &IID_ICorProfilerInfo10, &IID_ICorProfilerInfo11, &IID_ICorProfilerInfo12,
        &IID_ICorProfilerInfo13, &IID_ICorProfilerInfo14, &IID_ICorProfilerInfo15,
    };
    int highest = 0;
    for (int v = 15; v >= 1; v--) {
        IUnknown *out = NULL;
        HRESULT hr = unk->lpVtbl->QueryInterface(unk, infos[v - 1], (void **)&out);
        plog("InfoQI version=%d hr=0x%08X", v, (unsigned)hr);
        if (hr == S_OK) {
            if (!out)
                fail(p, "QueryInterface(ICorProfilerInfo%d) gave S_OK and NULL", v);
            else
                out->lpVtbl->Release(out);
            if (!highest)
                highest = v;
        }
    }
    plog("InfoHighest version=%d", highest);
    IUnknown *bogus = (IUnknown *)(uintptr_t)1;
    HRESULT hr = unk->lpVtbl->QueryInterface(unk, &IID_IMetaDataImport, (void **)&bogus);
    expect_hr(p, "Info QueryInterface(IID_IMetaDataImport)", hr, E_NOINTERFACE);
    if (bogus)
        fail(p, "a refused QueryInterface left %p in *ppv", (void *)bogus);

    hr = unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo3, (void **)&p->info);
    if (!expect_hr(p, "QueryInterface(ICorProfilerInfo3)", hr, S_OK))
        return E_FAIL;
    ICorProfilerInfo3 *info = p->info;

    const DWORD mask = COR_PRF_MONITOR_MODULE_LOADS | COR_PRF_MONITOR_ASSEMBLY_LOADS |
                       COR_PRF_MONITOR_APPDOMAIN_LOADS | COR_PRF_MONITOR_JIT_COMPILATION |
                       COR_PRF_MONITOR_CLASS_LOADS | COR_PRF_MONITOR_THREADS |
                       COR_PRF_MONITOR_EXCEPTIONS | COR_PRF_MONITOR_GC |
                       COR_PRF_MONITOR_SUSPENDS | COR_PRF_MONITOR_CACHE_SEARCHES |
                       COR_PRF_ENABLE_STACK_SNAPSHOT |
                       (p->transitions ? COR_PRF_MONITOR_CODE_TRANSITIONS : 0) |
                       (p->noopt ? COR_PRF_DISABLE_OPTIMIZATIONS : 0);
    expect_hr(p, "SetEventMask", info->lpVtbl->SetEventMask(info, mask), S_OK);
    if (p->high)
        set_high_mask(p, unk, mask);
    DWORD got = 0;
    expect_hr(p, "GetEventMask", info->lpVtbl->GetEventMask(info, &got), S_OK);
    plog("EventMask set=0x%08X get=0x%08X", (unsigned)mask, (unsigned)got);
    if (got != mask)
        fail(p, "GetEventMask gave 0x%08X after SetEventMask(0x%08X)", (unsigned)got, (unsigned)mask);
    if (conform_enabled()) {
        conform_initialize(unk, mask);
        if (unk->lpVtbl->QueryInterface(unk, &IID_ICorProfilerInfo15, (void **)&p->info15) != S_OK)
            p->info15 = NULL;
    }

    USHORT instance = 0, major = 0, minor = 0, build = 0, qfe = 0;
    COR_PRF_RUNTIME_TYPE type = 0;
    WCHAR ver[128];
    ULONG ver_len = 0;
    char vbuf[256];
    hr = info->lpVtbl->GetRuntimeInformation(info, &instance, &type, &major, &minor, &build, &qfe,
                                             128, &ver_len, ver);
    if (expect_hr(p, "GetRuntimeInformation", hr, S_OK)) {
        plog("RuntimeInformation instance=%u type=%d version=%u.%u.%u.%u string=%s", instance,
             (int)type, major, minor, build, qfe, utf8(ver, ver_len, vbuf, sizeof vbuf));
        if (type != COR_PRF_CORE_CLR || major < 5)
            fail(p, "GetRuntimeInformation: type %d major %u", (int)type, major);
    }

    ULONG buf_len_off = 0, str_len_off = 0, buf_off = 0, str_len_off2 = 0, buf_off2 = 0;
    hr = info->lpVtbl->GetStringLayout(info, &buf_len_off, &str_len_off, &buf_off);
    expect_hr(p, "GetStringLayout", hr, S_OK);
    hr = info->lpVtbl->GetStringLayout2(info, &str_len_off2, &buf_off2);
    expect_hr(p, "GetStringLayout2", hr, S_OK);
    plog("StringLayout length_at=%u chars_at=%u (layout2 %u %u)", (unsigned)str_len_off,
         (unsigned)buf_off, (unsigned)str_len_off2, (unsigned)buf_off2);
    if (str_len_off != str_len_off2 || buf_off != buf_off2 || buf_off != str_len_off + 4)
        fail(p, "GetStringLayout and GetStringLayout2 disagree");
    return S_OK;
}

static HRESULT cb_Shutdown(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    count(p, 4);
    plog("Shutdown");
    if (p->info15)
        conform_shutdown(p->info15, p->hello_module, p->main_fid);

    /* EnumModules must list Hello.dll (and enumerate through its own vtable). */
    ICorProfilerModuleEnum *mods = NULL;
    HRESULT hr = info->lpVtbl->EnumModules(info, &mods);
    if (expect_hr(p, "EnumModules", hr, S_OK)) {
        ULONG total = 0, got = 0, seen = 0;
        bool hello = false;
        expect_hr(p, "ModuleEnum::GetCount", mods->lpVtbl->GetCount(mods, &total), S_OK);
        ModuleID batch[16];
        while ((hr = mods->lpVtbl->Next(mods, 16, batch, &got)) == S_OK || (hr == S_FALSE && got)) {
            for (ULONG i = 0; i < got; i++)
                hello |= batch[i] == p->hello_module;
            seen += got;
            if (hr == S_FALSE)
                break;
        }
        plog("EnumModules count=%u enumerated=%u hello=%d", (unsigned)total, (unsigned)seen, hello);
        if (!hello || seen != total)
            fail(p, "EnumModules: %u of %u, Hello %s", (unsigned)seen, (unsigned)total,
                 hello ? "found" : "missing");
        mods->lpVtbl->Release(mods);
    }
    ICorProfilerFunctionEnum *funcs = NULL;
    hr = info->lpVtbl->EnumJITedFunctions(info, &funcs);
    if (expect_hr(p, "EnumJITedFunctions", hr, S_OK)) {
        ULONG total = 0, got = 0;
        bool main_found = false;
        expect_hr(p, "FunctionEnum::GetCount", funcs->lpVtbl->GetCount(funcs, &total), S_OK);
        COR_PRF_FUNCTION batch[64];
        while ((hr = funcs->lpVtbl->Next(funcs, 64, batch, &got)) == S_OK || (hr == S_FALSE && got)) {
            for (ULONG i = 0; i < got; i++)
                main_found |= batch[i].functionId == p->main_fid;
            if (hr == S_FALSE)
                break;
        }
        plog("EnumJITedFunctions count=%u main=%d", (unsigned)total, main_found);
        if (!main_found)
            fail(p, "EnumJITedFunctions does not list Main");
        funcs->lpVtbl->Release(funcs);
    }
    if (p->hello_module) {
        AppDomainID ads[8];
        ULONG32 n = 0;
        hr = info->lpVtbl->GetAppDomainsContainingModule(info, p->hello_module, 8, &n, ads);
        if (expect_hr(p, "GetAppDomainsContainingModule", hr, S_OK) && n < 1)
            fail(p, "GetAppDomainsContainingModule: none");
    }

    pthread_mutex_lock(&p->lock);
    plog("GCSummary started=%lu finished=%lu roots=%lu object_refs=%lu moved_ranges=%lu "
         "surviving_ranges=%lu",
         p->gc_started, p->gc_finished, p->gc_roots, p->gc_objects, p->gc_moved, p->gc_surviving);
    for (unsigned s = 0; s < SLOT_COUNT; s++)
        if (p->counts[s])
            plog("Count slot=%u n=%lu", s, p->counts[s]);
    /* Paired events come in pairs: a slot swapped with a neighbour of the same shape
     * (say ThreadCreated and ThreadDestroyed) shows up here. */
    static const struct {
        unsigned open, close;
        bool exact;
    } pairs[] = {
        { 5, 6, true },     /* AppDomainCreationStarted / Finished */
        { 9, 10, true },    /* AssemblyLoadStarted / Finished */
        { 13, 14, true },   /* ModuleLoadStarted / Finished */
        { 18, 19, true },   /* ClassLoadStarted / Finished */
        { 23, 24, true },   /* JITCompilationStarted / Finished */
        { 25, 26, false },  /* JITCachedFunctionSearchStarted / Finished */
        { 29, 31, true },   /* ThreadCreated / ThreadAssignedToOSThread */
        { 45, 46, true },   /* RuntimeResumeStarted / Finished */
        { 47, 48, true },   /* RuntimeThreadSuspended / Resumed */
        { 55, 56, true },   /* ExceptionSearchFunctionEnter / Leave */
        { 57, 58, true },   /* ExceptionSearchFilterEnter / Leave */
        { 62, 63, false },  /* ExceptionUnwindFunctionEnter / Leave (not the catching frame) */
        { 64, 65, true },   /* ExceptionUnwindFinallyEnter / Leave */
        { 66, 67, true },   /* ExceptionCatcherEnter / Leave */
        { 73, 75, true },   /* GarbageCollectionStarted / Finished */
    };
    unsigned unpaired = 0;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        unsigned long a = p->counts[pairs[i].open], b = p->counts[pairs[i].close];
        if (pairs[i].exact ? a != b : a < b) {
            plog("FAIL: slot %u came %lu times, slot %u %lu times", pairs[i].open, a,
                 pairs[i].close, b);
            unpaired++;
        }
    }
    unsigned long suspends = p->counts[42], ends = p->counts[43] + p->counts[44];
    if (suspends != ends) {
        plog("FAIL: %lu RuntimeSuspendStarted, %lu Finished or Aborted", suspends, ends);
        unpaired++;
    }
    /* A collection needs a finished suspension (an aborted one is a rare race). */
    if (p->gc_started && p->counts[43] == 0) {
        plog("FAIL: %lu collections but no RuntimeSuspendFinished", p->gc_started);
        unpaired++;
    }
    p->failures += unpaired;
    unsigned missing = 0;
    for (int b = 0; b < SEEN_COUNT; b++)
        if (!p->seen[b] && !(b == SEEN_TRANSITION && !p->transitions) &&
            !(b == SEEN_CACHE_SEARCH && p->transitions)) {
            plog("FAIL: never saw %s", seen_names[b]);
            missing++;
        }
    p->failures += missing;
    unsigned failures = p->failures;
    pthread_mutex_unlock(&p->lock);
    if (failures)
        plog("FAIL %u", failures);
    else
        plog("PASS");
    return S_OK;
}

/* ---- app domains, assemblies, modules, classes --------------------------------------- */

static HRESULT cb_AppDomainCreationStarted(ICorProfilerCallback3 *iface, AppDomainID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 5);
    plog("AppDomainCreationStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "AppDomainCreationStarted", 'd', id, NULL);
    return S_OK;
}

static HRESULT cb_AppDomainCreationFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    ProcessID pid = 0;
    char buf[NAME_CAP];
    count(p, 6);
    expect_hr(p, "AppDomainCreationFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetAppDomainInfo(info, id, NAME_CAP, &len, name, &pid);
    if (expect_hr(p, "GetAppDomainInfo", hr, S_OK)) {
        plog("AppDomainCreationFinished id=0x%lx hr=0x%08X pid=%lu name=%s", (unsigned long)id,
             (unsigned)st, (unsigned long)pid, utf8(name, len, buf, sizeof buf));
        if (pid != (ProcessID)getpid())
            fail(p, "GetAppDomainInfo: process id %lu, getpid() %d", (unsigned long)pid, (int)getpid());
        else
            mark(p, SEEN_APPDOMAIN);
    }
    startup_event(info, "AppDomainCreationFinished", 'd', id, NULL);
    return S_OK;
}

static HRESULT cb_AppDomainShutdownStarted(ICorProfilerCallback3 *iface, AppDomainID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 7);
    plog("AppDomainShutdownStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

static HRESULT cb_AppDomainShutdownFinished(ICorProfilerCallback3 *iface, AppDomainID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 8);
    plog("AppDomainShutdownFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

static HRESULT cb_AssemblyLoadStarted(ICorProfilerCallback3 *iface, AssemblyID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 9);
    plog("AssemblyLoadStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "AssemblyLoadStarted", 0, id, NULL);
    return S_OK;
}

static HRESULT cb_AssemblyLoadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    AppDomainID ad = 0;
    ModuleID mod = 0;
    char buf[NAME_CAP], modname[NAME_CAP];
    count(p, 10);
    expect_hr(p, "AssemblyLoadFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetAssemblyInfo(info, id, NAME_CAP, &len, name, &ad, &mod);
    if (!expect_hr(p, "GetAssemblyInfo", hr, S_OK))
        return S_OK;
    utf8(name, len, buf, sizeof buf);
    module_base_name(p, mod, modname, sizeof modname);
    plog("AssemblyLoadFinished id=0x%lx hr=0x%08X appdomain=0x%lx module=0x%lx module_name=%s name=%s",
         (unsigned long)id, (unsigned)st, (unsigned long)ad, (unsigned long)mod, modname, buf);
    startup_event(info, "AssemblyLoadFinished", 'a', id, modname);
    if (strcmp(buf, "Hello") == 0) {
        if (strcmp(modname, "Hello.dll") != 0)
            fail(p, "assembly Hello's manifest module is %s", modname);
        else
            mark(p, SEEN_HELLO_ASSEMBLY);
    }
    return S_OK;
}

static HRESULT cb_AssemblyUnloadStarted(ICorProfilerCallback3 *iface, AssemblyID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 11);
    plog("AssemblyUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

static HRESULT cb_AssemblyUnloadFinished(ICorProfilerCallback3 *iface, AssemblyID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 12);
    plog("AssemblyUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

static HRESULT cb_ModuleLoadStarted(ICorProfilerCallback3 *iface, ModuleID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 13);
    plog("ModuleLoadStarted id=0x%lx", (unsigned long)id);
    startup_event(p->info, "ModuleLoadStarted", 0, id, NULL);
    return S_OK;
}

static HRESULT cb_ModuleLoadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP], name2[NAME_CAP];
    ULONG len = 0, len2 = 0;
    LPCBYTE base = NULL, base2 = NULL;
    AssemblyID asm_id = 0, asm_id2 = 0;
    DWORD flags = 0;
    char path[NAME_CAP], path2[NAME_CAP];
    count(p, 14);
    expect_hr(p, "ModuleLoadFinished status", st, S_OK);
    HRESULT hr = info->lpVtbl->GetModuleInfo(info, id, &base, NAME_CAP, &len, name, &asm_id);
    if (!expect_hr(p, "GetModuleInfo", hr, S_OK))
        return S_OK;
    hr = info->lpVtbl->GetModuleInfo2(info, id, &base2, NAME_CAP, &len2, name2, &asm_id2, &flags);
    expect_hr(p, "GetModuleInfo2", hr, S_OK);
    utf8(name, len, path, sizeof path);
    utf8(name2, len2, path2, sizeof path2);
    if (base != base2 || strcmp(path, path2) != 0 || len != len2)
        fail(p, "GetModuleInfo and GetModuleInfo2 disagree on module 0x%lx", (unsigned long)id);
    if (len != strlen(path) + 1)
        fail(p, "GetModuleInfo: length %u for a %zu-character name", (unsigned)len, strlen(path));
    plog("ModuleLoadFinished id=0x%lx hr=0x%08X base=%p flags=0x%X name=%s", (unsigned long)id,
         (unsigned)st, (const void *)base, (unsigned)flags, path);
    const char *file = base_name(path);
    startup_event(info, "ModuleLoadFinished", 'm', id, file);
    if (strcmp(file, "System.Private.CoreLib.dll") == 0 && base) {
        pthread_mutex_lock(&p->lock);
        p->corelib_module = id;
        pthread_mutex_unlock(&p->lock);
        mark(p, SEEN_CORELIB_LOADED);
    } else if (strcmp(file, "Hello.dll") == 0 && base) {
        if (!(flags & COR_PRF_MODULE_DISK))
            fail(p, "Hello.dll module flags 0x%X lack COR_PRF_MODULE_DISK", (unsigned)flags);
        pthread_mutex_lock(&p->lock);
        p->hello_module = id;
        pthread_mutex_unlock(&p->lock);
        mark(p, SEEN_HELLO_LOADED);
        if (p->info15)
            conform_module(p->info15, id);
        metadata_tour(p, id);
        /* The body allocator: a module-specific IMethodMalloc. */
        IMethodMalloc *alloc = NULL;
        hr = info->lpVtbl->GetILFunctionBodyAllocator(info, id, &alloc);
        if (expect_hr(p, "GetILFunctionBodyAllocator", hr, S_OK)) {
            void *mem = alloc->lpVtbl->Alloc(alloc, 64);
            void *zero = alloc->lpVtbl->Alloc(alloc, 0);
            long long delta = mem ? (long long)((uintptr_t)mem - (uintptr_t)base) : 0;
            plog("MethodMalloc Alloc(64)=%p offset_from_base=%lld Alloc(0)=%p", mem, delta, zero);
            if (!mem)
                fail(p, "IMethodMalloc::Alloc(64) gave NULL");
            else
                memset(mem, 0, 64);   /* it must be writable memory */
            alloc->lpVtbl->Release(alloc);
        }
    }
    return S_OK;
}

static HRESULT cb_ModuleUnloadStarted(ICorProfilerCallback3 *iface, ModuleID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 15);
    plog("ModuleUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

static HRESULT cb_ModuleUnloadFinished(ICorProfilerCallback3 *iface, ModuleID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 16);
    plog("ModuleUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

static HRESULT cb_ModuleAttachedToAssembly(ICorProfilerCallback3 *iface, ModuleID mod, AssemblyID asm_id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    AppDomainID ad = 0;
    ModuleID manifest = 0;
    char buf[NAME_CAP], modname[NAME_CAP];
    count(p, 17);
    module_base_name(p, mod, modname, sizeof modname);
    HRESULT hr = info->lpVtbl->GetAssemblyInfo(info, asm_id, NAME_CAP, &len, name, &ad, &manifest);
    if (!expect_hr(p, "GetAssemblyInfo", hr, S_OK))
        return S_OK;
    plog("ModuleAttachedToAssembly module=0x%lx assembly=0x%lx module_name=%s assembly_name=%s",
         (unsigned long)mod, (unsigned long)asm_id, modname, utf8(name, len, buf, sizeof buf));
    startup_event(info, "ModuleAttachedToAssembly", 'm', mod, modname);
    if (strcmp(modname, "Hello.dll") == 0) {
        if (strcmp(buf, "Hello") != 0 || manifest != mod)
            fail(p, "Hello.dll attached to assembly %s (manifest module 0x%lx)", buf,
                 (unsigned long)manifest);
        else
            mark(p, SEEN_HELLO_ATTACHED);
    }
    return S_OK;
}

static HRESULT cb_ClassLoadStarted(ICorProfilerCallback3 *iface, ClassID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 18);
    plog("ClassLoadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

static HRESULT cb_ClassLoadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    ModuleID mod = 0;
    mdTypeDef td = 0;
    count(p, 19);
    HRESULT hr = info->lpVtbl->GetClassIDInfo(info, id, &mod, &td);
    plog("ClassLoadFinished id=0x%lx hr=0x%08X info_hr=0x%08X module=0x%lx token=0x%08X",
         (unsigned long)id, (unsigned)st, (unsigned)hr, (unsigned long)mod, (unsigned)td);
    if (hr == S_OK && mod && mod == p->hello_module) {
        IUnknown *unk = NULL;
        char name[NAME_CAP];
        hr = info->lpVtbl->GetModuleMetaData(info, mod, ofRead, &IID_IMetaDataImport, &unk);
        if (expect_hr(p, "GetModuleMetaData", hr, S_OK)) {
            IMetaDataImport *md = (IMetaDataImport *)unk;
            if (type_name(p, md, td, name, sizeof name)) {
                plog("ClassLoadFinished hello_type=%s", name);
                if (strcmp(name, "Hello.Program") == 0)
                    mark(p, SEEN_CLASS_PROGRAM);
            }
            md->lpVtbl->Release(md);
        }
    }
    return S_OK;
}

static HRESULT cb_ClassUnloadStarted(ICorProfilerCallback3 *iface, ClassID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 20);
    plog("ClassUnloadStarted id=0x%lx", (unsigned long)id);
    return S_OK;
}

static HRESULT cb_ClassUnloadFinished(ICorProfilerCallback3 *iface, ClassID id, HRESULT st)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 21);
    plog("ClassUnloadFinished id=0x%lx hr=0x%08X", (unsigned long)id, (unsigned)st);
    return S_OK;
}

static HRESULT cb_FunctionUnloadStarted(ICorProfilerCallback3 *iface, FunctionID id)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 22);
    plog("FunctionUnloadStarted fid=0x%lx", (unsigned long)id);
    return S_OK;
}

/* ---- JIT ----------------------------------------------------------------------------- */

typedef struct snapshot {
    probe *p;
    FunctionID want;
    unsigned frames, managed;
    bool found;
} snapshot;

static HRESULT snapshot_frame(FunctionID fid, UINT_PTR ip, COR_PRF_FRAME_INFO frame,
                              ULONG32 context_size, BYTE context[], void *client)
{
    snapshot *s = client;
    s->frames++;
    if (fid) {
        s->managed++;
        s->found |= fid == s->want;
    }
    return S_OK;
}

/* Answer's new body: the same tiny body with ldc.i4.s 41 turned into ldc.i4.s 42. */
static void rewrite_answer(probe *p, const method_desc *d)
{
    ICorProfilerInfo3 *info = p->info;
    LPCBYTE body = NULL;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, d->module, d->token, &body, &size);
    if (!expect_hr(p, "GetILFunctionBody(Answer)", hr, S_OK))
        return;
    /* tiny header (code size 3), ldc.i4.s 41, ret */
    static const BYTE expected[] = { (3 << 2) | 2, 0x1F, 41, 0x2A };
    if (size != sizeof expected || memcmp(body, expected, sizeof expected) != 0) {
        fail(p, "Answer's body is not tiny 'ldc.i4.s 41; ret' (%u bytes)", (unsigned)size);
        return;
    }
    IMethodMalloc *alloc = NULL;
    hr = info->lpVtbl->GetILFunctionBodyAllocator(info, d->module, &alloc);
    if (!expect_hr(p, "GetILFunctionBodyAllocator", hr, S_OK))
        return;
    BYTE *fresh = alloc->lpVtbl->Alloc(alloc, size);
    alloc->lpVtbl->Release(alloc);
    if (!fresh) {
        fail(p, "IMethodMalloc::Alloc(%u) gave NULL", (unsigned)size);
        return;
    }
    memcpy(fresh, body, size);
    fresh[2] = 42;
    hr = info->lpVtbl->SetILFunctionBody(info, d->module, d->token, fresh);
    expect_hr(p, "SetILFunctionBody(Answer)", hr, S_OK);
    LPCBYTE now = NULL;
    ULONG now_size = 0;
    hr = info->lpVtbl->GetILFunctionBody(info, d->module, d->token, &now, &now_size);
    expect_hr(p, "GetILFunctionBody(Answer) after SetILFunctionBody", hr, S_OK);
    plog("Rewrite method=%s old=%p new=%p now=%p now_size=%u", d->full, (const void *)body,
         (void *)fresh, (const void *)now, (unsigned)now_size);
    if (now != fresh || now_size != size)
        fail(p, "GetILFunctionBody after SetILFunctionBody: %p (%u bytes), want %p",
             (const void *)now, (unsigned)now_size, (void *)fresh);
}

static HRESULT cb_JITCompilationStarted(ICorProfilerCallback3 *iface, FunctionID fid, BOOL safe)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    method_desc d;
    count(p, 23);
    if (!describe_function(p, fid, &d))
        return S_OK;
    LPCBYTE body = NULL;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetILFunctionBody(info, d.module, d.token, &body, &size);
    expect_hr(p, "GetILFunctionBody", hr, S_OK);
    plog("JITCompilationStarted fid=0x%lx safe=%d token=0x%08X rva=0x%X il_size=%u module=%s "
         "method=%s",
         (unsigned long)fid, (int)safe, (unsigned)d.token, (unsigned)d.rva, (unsigned)size,
         d.module_name, d.full);
    if (is_hello(&d, "Hello.Program::Main")) {
        pthread_mutex_lock(&p->lock);
        bool first = !p->conform_main_done;
        p->conform_main_done = true;
        pthread_mutex_unlock(&p->lock);
        if (p->info15 && first) {
            conform_main_jit(p->info15, fid, d.module, d.token);
            pthread_mutex_lock(&p->lock);
            ModuleID corelib = p->corelib_module;
            pthread_mutex_unlock(&p->lock);
            conform_generics(p->info15, d.module, corelib);
            conform_unsupported(p->info15, fid, d.module, d.token);
        }
        /* Where the header lies: base + RVA for a mapped image, base + file offset for a
         * flat one (COR_PRF_MODULE_FLAT_LAYOUT). */
        LPCBYTE base = NULL;
        WCHAR mname[NAME_CAP];
        ULONG mlen = 0;
        AssemblyID masm = 0;
        DWORD mflags = 0;
        hr = info->lpVtbl->GetModuleInfo2(info, d.module, &base, NAME_CAP, &mlen, mname, &masm,
                                          &mflags);
        if (expect_hr(p, "GetModuleInfo2", hr, S_OK))
            plog("MainBody header_offset=0x%lx rva=0x%X module_flags=0x%X",
                 (unsigned long)(body - base), (unsigned)d.rva, (unsigned)mflags);
        if (!(mflags & COR_PRF_MODULE_FLAT_LAYOUT) && body != base + d.rva)
            fail(p, "Main's header is not at base + RVA in a mapped module");
        ClassID cls = 1;
        ModuleID mod = 0;
        mdToken tok = 0;
        ULONG32 ntype = 99;
        hr = info->lpVtbl->GetFunctionInfo2(info, fid, 0, &cls, &mod, &tok, 0, &ntype, NULL);
        if (expect_hr(p, "GetFunctionInfo2(Main)", hr, S_OK) &&
            (mod != d.module || tok != d.token || ntype != 0))
            fail(p, "GetFunctionInfo2(Main): module 0x%lx token 0x%08X type args %u",
                 (unsigned long)mod, (unsigned)tok, (unsigned)ntype);
        FunctionID by_token = 0;
        hr = info->lpVtbl->GetFunctionFromToken(info, d.module, d.token, &by_token);
        if (expect_hr(p, "GetFunctionFromToken(Main)", hr, S_OK) && by_token != fid)
            fail(p, "GetFunctionFromToken(Main) 0x%lx, want 0x%lx", (unsigned long)by_token,
                 (unsigned long)fid);
        ThreadID tid = 0;
        DWORD os_tid = 0;
        hr = info->lpVtbl->GetCurrentThreadID(info, &tid);
        if (expect_hr(p, "GetCurrentThreadID", hr, S_OK)) {
            hr = info->lpVtbl->GetThreadInfo(info, tid, &os_tid);
            AppDomainID ad = 0;
            HRESULT hr2 = info->lpVtbl->GetThreadAppDomain(info, tid, &ad);
            plog("MainThread thread=0x%lx os_thread=%u gettid=%ld appdomain=0x%lx hr=0x%08X/0x%08X",
                 (unsigned long)tid, (unsigned)os_tid, (long)syscall(SYS_gettid),
                 (unsigned long)ad, (unsigned)hr, (unsigned)hr2);
            if (hr != S_OK || os_tid != (DWORD)syscall(SYS_gettid))
                fail(p, "GetThreadInfo: hr 0x%08X os thread %u, gettid %ld", (unsigned)hr,
                     (unsigned)os_tid, (long)syscall(SYS_gettid));
            expect_hr(p, "GetThreadAppDomain", hr2, S_OK);
        }
        pthread_mutex_lock(&p->lock);
        if (!p->main_fid)
            p->main_fid = fid;
        mdMethodDef toured = p->main_token;
        pthread_mutex_unlock(&p->lock);
        if (d.token != toured)
            fail(p, "Main's token 0x%08X, the metadata tour found 0x%08X", (unsigned)d.token,
                 (unsigned)toured);
        else
            mark(p, SEEN_MAIN_JIT);
    } else if (is_hello(&d, "Hello.Program::Square")) {
        /* Main called Square: Main must be on this thread's stack. */
        snapshot s = { p, p->main_fid, 0, 0, false };
        hr = info->lpVtbl->DoStackSnapshot(info, 0, snapshot_frame, COR_PRF_SNAPSHOT_DEFAULT, &s,
                                           NULL, 0);
        plog("DoStackSnapshot hr=0x%08X frames=%u managed=%u main=%d", (unsigned)hr, s.frames,
             s.managed, s.found);
        if (expect_hr(p, "DoStackSnapshot", hr, S_OK) && s.found)
            mark(p, SEEN_STACK_SNAPSHOT);
        mark(p, SEEN_SQUARE_JIT);
    } else if (is_hello(&d, "Hello.Program::Answer") && p->rewrite) {
        rewrite_answer(p, &d);
    }
    return S_OK;
}

static HRESULT cb_JITCompilationFinished(ICorProfilerCallback3 *iface, FunctionID fid, HRESULT st,
                                         BOOL safe)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    count(p, 24);
    plog("JITCompilationFinished fid=0x%lx hr=0x%08X safe=%d", (unsigned long)fid, (unsigned)st,
         (int)safe);
    if (fid != p->main_fid)
        return S_OK;
    expect_hr(p, "JITCompilationFinished(Main) status", st, S_OK);
    mark(p, SEEN_MAIN_JIT_FINISHED);
    /* The code's first byte maps back to the function; GetCodeInfo agrees with GetCodeInfo2. */
    COR_PRF_CODE_INFO ranges[8];
    ULONG32 n = 0;
    HRESULT hr = info->lpVtbl->GetCodeInfo2(info, fid, 8, &n, ranges);
    if (!expect_hr(p, "GetCodeInfo2(Main)", hr, S_OK) || n == 0)
        return S_OK;
    FunctionID back = 0;
    hr = info->lpVtbl->GetFunctionFromIP(info, (LPCBYTE)ranges[0].startAddress, &back);
    LPCBYTE start = NULL;
    ULONG size = 0;
    HRESULT hr2 = info->lpVtbl->GetCodeInfo(info, fid, &start, &size);
    COR_DEBUG_IL_TO_NATIVE_MAP map[64];
    ULONG32 nmap = 0;
    HRESULT hr3 = info->lpVtbl->GetILToNativeMapping(info, fid, 64, &nmap, map);
    plog("CodeInfo fid=0x%lx ranges=%u start=0x%lx size=%lu from_ip=0x%lx code_info=%p+%u "
         "il_map=%u",
         (unsigned long)fid, (unsigned)n, (unsigned long)ranges[0].startAddress,
         (unsigned long)ranges[0].size, (unsigned long)back, (const void *)start, (unsigned)size,
         (unsigned)nmap);
    if (expect_hr(p, "GetFunctionFromIP(Main's code)", hr, S_OK) && back == fid &&
        expect_hr(p, "GetCodeInfo(Main)", hr2, S_OK) &&
        (UINT_PTR)start == ranges[0].startAddress && size == ranges[0].size &&
        expect_hr(p, "GetILToNativeMapping(Main)", hr3, S_OK) && nmap > 0)
        mark(p, SEEN_MAIN_CODE_CHECKED);
    else
        fail(p, "Main's code info does not map back (from_ip 0x%lx, code_info %p+%u)",
             (unsigned long)back, (const void *)start, (unsigned)size);
    return S_OK;
}

static HRESULT cb_JITCachedFunctionSearchStarted(ICorProfilerCallback3 *iface, FunctionID fid,
                                                 BOOL *use_cached)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 25);
    if (!use_cached)
        fail(p, "JITCachedFunctionSearchStarted: NULL pbUseCachedFunction");
    else
        *use_cached = TRUE;
    return S_OK;
}

static HRESULT cb_JITCachedFunctionSearchFinished(ICorProfilerCallback3 *iface, FunctionID fid,
                                                  COR_PRF_JIT_CACHE result)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 26);
    if (result != COR_PRF_CACHED_FUNCTION_FOUND && result != COR_PRF_CACHED_FUNCTION_NOT_FOUND) {
        fail(p, "JITCachedFunctionSearchFinished: result %d", (int)result);
        return S_OK;
    }
    method_desc d;
    if (result == COR_PRF_CACHED_FUNCTION_FOUND && describe_function(p, fid, &d)) {
        plog("JITCachedFunctionSearchFinished fid=0x%lx result=%d module=%s method=%s",
             (unsigned long)fid, (int)result, d.module_name, d.full);
        mark(p, SEEN_CACHE_SEARCH);
    }
    return S_OK;
}

static HRESULT cb_JITFunctionPitched(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 27);
    plog("JITFunctionPitched fid=0x%lx", (unsigned long)fid);
    return S_OK;
}

static HRESULT cb_JITInlining(ICorProfilerCallback3 *iface, FunctionID caller, FunctionID callee,
                              BOOL *should)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 28);
    if (!should || !caller || !callee)
        fail(p, "JITInlining(0x%lx, 0x%lx, %p)", (unsigned long)caller, (unsigned long)callee,
             (void *)should);
    else
        *should = TRUE;
    return S_OK;
}

/* ---- threads ------------------------------------------------------------------------- */

static HRESULT cb_ThreadCreated(ICorProfilerCallback3 *iface, ThreadID tid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 29);
    plog("ThreadCreated thread=0x%lx", (unsigned long)tid);
    startup_event(p->info, "ThreadCreated", 't', tid, NULL);
    if (tid)
        mark(p, SEEN_THREAD_CREATED);
    return S_OK;
}

static HRESULT cb_ThreadDestroyed(ICorProfilerCallback3 *iface, ThreadID tid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 30);
    plog("ThreadDestroyed thread=0x%lx", (unsigned long)tid);
    return S_OK;
}

static HRESULT cb_ThreadAssignedToOSThread(ICorProfilerCallback3 *iface, ThreadID tid, DWORD os)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 31);
    plog("ThreadAssignedToOSThread thread=0x%lx os_thread=%u", (unsigned long)tid, (unsigned)os);
    startup_event(p->info, "ThreadAssignedToOSThread", 't', tid,
                  (pid_t)os == (pid_t)syscall(SYS_gettid) ? "os=self" : "os=other");
    if (!tid || !os)
        fail(p, "ThreadAssignedToOSThread(0x%lx, %u)", (unsigned long)tid, (unsigned)os);
    if (p->info15)
        conform_rules_no_trigger(p->info15);
    return S_OK;
}

static HRESULT cb_ThreadNameChanged(ICorProfilerCallback3 *iface, ThreadID tid, ULONG cch,
                                    WCHAR name[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char buf[NAME_CAP];
    count(p, 72);
    utf8(name, name ? cch : 0, buf, sizeof buf);
    plog("ThreadNameChanged thread=0x%lx cch=%u name=%s", (unsigned long)tid, (unsigned)cch, buf);
    if (strcmp(buf, "ilgraft-main") == 0) {
        ThreadID self = 0;
        HRESULT hr = p->info->lpVtbl->GetCurrentThreadID(p->info, &self);
        if (expect_hr(p, "GetCurrentThreadID", hr, S_OK) && self == tid)
            mark(p, SEEN_THREAD_NAME);
        else
            fail(p, "ThreadNameChanged for 0x%lx on thread 0x%lx", (unsigned long)tid,
                 (unsigned long)self);
    }
    return S_OK;
}

/* ---- remoting (gone from CoreCLR; never called) --------------------------------------- */

static HRESULT remoting(probe *p, unsigned slot, const char *name)
{
    count(p, slot);
    fail(p, "%s called: CoreCLR has no remoting", name);
    return S_OK;
}

static HRESULT cb_RemotingClientInvocationStarted(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 32, "RemotingClientInvocationStarted");
}
static HRESULT cb_RemotingClientSendingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 33, "RemotingClientSendingMessage");
}
static HRESULT cb_RemotingClientReceivingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 34, "RemotingClientReceivingReply");
}
static HRESULT cb_RemotingClientInvocationFinished(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 35, "RemotingClientInvocationFinished");
}
static HRESULT cb_RemotingServerReceivingMessage(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 36, "RemotingServerReceivingMessage");
}
static HRESULT cb_RemotingServerInvocationStarted(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 37, "RemotingServerInvocationStarted");
}
static HRESULT cb_RemotingServerInvocationReturned(ICorProfilerCallback3 *iface)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 38, "RemotingServerInvocationReturned");
}
static HRESULT cb_RemotingServerSendingReply(ICorProfilerCallback3 *iface, GUID *c, BOOL a)
{
    return remoting(impl_from_ICorProfilerCallback3(iface), 39, "RemotingServerSendingReply");
}

/* ---- transitions and suspension -------------------------------------------------------- */

static HRESULT transition(probe *p, unsigned slot, const char *what, FunctionID fid,
                          COR_PRF_TRANSITION_REASON reason)
{
    count(p, slot);
    char name[2 * NAME_CAP + 4] = "(none)";
    if (fid) {
        method_desc d;
        if (describe_function(p, fid, &d))
            snprintf(name, sizeof name, "%s", d.full);
    }
    plog("%s fid=0x%lx reason=%d method=%s", what, (unsigned long)fid, (int)reason, name);
    if (reason != COR_PRF_TRANSITION_CALL && reason != COR_PRF_TRANSITION_RETURN)
        fail(p, "%s: reason %d", what, (int)reason);
    else
        mark(p, SEEN_TRANSITION);
    return S_OK;
}

static HRESULT cb_UnmanagedToManagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return transition(impl_from_ICorProfilerCallback3(iface), 40, "UnmanagedToManagedTransition",
                      fid, reason);
}

static HRESULT cb_ManagedToUnmanagedTransition(ICorProfilerCallback3 *iface, FunctionID fid,
                                               COR_PRF_TRANSITION_REASON reason)
{
    return transition(impl_from_ICorProfilerCallback3(iface), 41, "ManagedToUnmanagedTransition",
                      fid, reason);
}

static HRESULT cb_RuntimeSuspendStarted(ICorProfilerCallback3 *iface, COR_PRF_SUSPEND_REASON reason)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 42);
    plog("RuntimeSuspendStarted reason=%d", (int)reason);
    if ((unsigned)reason > COR_PRF_SUSPEND_FOR_PROFILER || reason == 5)
        fail(p, "RuntimeSuspendStarted: reason %d", (int)reason);
    if (reason == COR_PRF_SUSPEND_FOR_GC)
        mark(p, SEEN_SUSPEND);
    return S_OK;
}

#define SIMPLE_EVENT(fn, slot, text)                                                     \
    static HRESULT fn(ICorProfilerCallback3 *iface)                                     \
    {                                                                                    \
        probe *p = impl_from_ICorProfilerCallback3(iface);                               \
        count(p, slot);                                                                  \
        plog(text);                                                                      \
        return S_OK;                                                                     \
    }

SIMPLE_EVENT(cb_RuntimeSuspendFinished, 43, "RuntimeSuspendFinished")
SIMPLE_EVENT(cb_RuntimeSuspendAborted, 44, "RuntimeSuspendAborted")

/* The resume pair has one shape, so its order is what tells the two slots apart. */
static HRESULT resume_event(ICorProfilerCallback3 *iface, unsigned slot, bool starting)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, slot);
    pthread_mutex_lock(&p->lock);
    bool in_order = p->resuming != starting;
    p->resuming = starting;
    pthread_mutex_unlock(&p->lock);
    plog("%s", starting ? "RuntimeResumeStarted" : "RuntimeResumeFinished");
    if (!in_order)
        fail(p, "%s out of order", starting ? "RuntimeResumeStarted" : "RuntimeResumeFinished");
    return S_OK;
}

static HRESULT cb_RuntimeResumeStarted(ICorProfilerCallback3 *iface)
{
    return resume_event(iface, 45, true);
}

static HRESULT cb_RuntimeResumeFinished(ICorProfilerCallback3 *iface)
{
    return resume_event(iface, 46, false);
}

/* A thread is resumed only after it was suspended: the order tells the two slots of
 * the same shape apart. */
static HRESULT thread_suspension(ICorProfilerCallback3 *iface, unsigned slot, ThreadID tid,
                                 bool suspending)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, slot);
    pthread_mutex_lock(&p->lock);
    size_t at = p->suspended_count;
    for (size_t i = 0; i < p->suspended_count; i++)
        if (p->suspended[i] == tid)
            at = i;
    bool was = at < p->suspended_count;
    if (suspending && !was && p->suspended_count < sizeof p->suspended / sizeof p->suspended[0])
        p->suspended[p->suspended_count++] = tid;
    else if (!suspending && was)
        p->suspended[at] = p->suspended[--p->suspended_count];
    pthread_mutex_unlock(&p->lock);
    const char *what = suspending ? "RuntimeThreadSuspended" : "RuntimeThreadResumed";
    plog("%s thread=0x%lx", what, (unsigned long)tid);
    if (was == suspending)
        fail(p, "%s(0x%lx) while it was %s", what, (unsigned long)tid,
             was ? "suspended" : "not suspended");
    return S_OK;
}

static HRESULT cb_RuntimeThreadSuspended(ICorProfilerCallback3 *iface, ThreadID tid)
{
    return thread_suspension(iface, 47, tid, true);
}

static HRESULT cb_RuntimeThreadResumed(ICorProfilerCallback3 *iface, ThreadID tid)
{
    return thread_suspension(iface, 48, tid, false);
}

/* ---- GC ------------------------------------------------------------------------------ */

static HRESULT cb_MovedReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID old_start[],
                                  ObjectID new_start[], ULONG lengths[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 49);
    if (n && (!old_start || !new_start || !lengths))
        fail(p, "MovedReferences(%u) with NULL arrays", (unsigned)n);
    pthread_mutex_lock(&p->lock);
    p->gc_moved += n;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

static HRESULT cb_ObjectAllocated(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 50);
    plog("ObjectAllocated object=0x%lx class=0x%lx", (unsigned long)obj, (unsigned long)cls);
    return S_OK;
}

static HRESULT cb_ObjectsAllocatedByClass(ICorProfilerCallback3 *iface, ULONG n, ClassID classes[],
                                          ULONG counts[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 51);
    plog("ObjectsAllocatedByClass classes=%u", (unsigned)n);
    if (n && (!classes || !counts))
        fail(p, "ObjectsAllocatedByClass(%u) with NULL arrays", (unsigned)n);
    return S_OK;
}

static HRESULT cb_ObjectReferences(ICorProfilerCallback3 *iface, ObjectID obj, ClassID cls,
                                   ULONG n, ObjectID refs[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 52);
    if (!obj || !cls || (n && !refs))
        fail(p, "ObjectReferences(0x%lx, 0x%lx, %u, %p)", (unsigned long)obj, (unsigned long)cls,
             (unsigned)n, (void *)refs);
    pthread_mutex_lock(&p->lock);
    p->gc_objects++;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

static HRESULT cb_RootReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 53);
    if (n && !refs)
        fail(p, "RootReferences(%u, NULL)", (unsigned)n);
    return S_OK;
}

static HRESULT cb_GarbageCollectionStarted(ICorProfilerCallback3 *iface, int ngen, BOOL collected[],
                                           COR_PRF_GC_REASON reason)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    char gens[64] = "";
    count(p, 73);
    if (ngen < 1 || ngen > 8 || !collected) {
        fail(p, "GarbageCollectionStarted(%d, %p, %d)", ngen, (void *)collected, (int)reason);
        return S_OK;
    }
    for (int g = 0; g < ngen; g++)
        gens[g] = collected[g] ? '1' : '0';
    gens[ngen] = 0;
    COR_PRF_GC_GENERATION_RANGE ranges[64];
    ULONG nranges = 0;
    HRESULT hr = info->lpVtbl->GetGenerationBounds(info, 64, &nranges, ranges);
    expect_hr(p, "GetGenerationBounds", hr, S_OK);
    bool sane = nranges > 0;
    for (ULONG i = 0; i < nranges && i < 64; i++)
        sane &= (unsigned)ranges[i].generation <= COR_PRF_GC_PINNED_OBJECT_HEAP &&
                ranges[i].rangeStart != 0 && ranges[i].rangeLength <= ranges[i].rangeLengthReserved;
    plog("GarbageCollectionStarted generations=%d collected=%s reason=%d bounds=%u", ngen, gens,
         (int)reason, (unsigned)nranges);
    if (!sane)
        fail(p, "GetGenerationBounds: %u implausible ranges", (unsigned)nranges);
    if (reason != COR_PRF_GC_OTHER && reason != COR_PRF_GC_INDUCED)
        fail(p, "GarbageCollectionStarted: reason %d", (int)reason);
    pthread_mutex_lock(&p->lock);
    p->gc_started++;
    pthread_mutex_unlock(&p->lock);
    if (reason == COR_PRF_GC_INDUCED && collected[0])
        mark(p, SEEN_INDUCED_GC);
    return S_OK;
}

static HRESULT cb_SurvivingReferences(ICorProfilerCallback3 *iface, ULONG n, ObjectID starts[],
                                      ULONG lengths[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 74);
    if (n && (!starts || !lengths))
        fail(p, "SurvivingReferences(%u) with NULL arrays", (unsigned)n);
    pthread_mutex_lock(&p->lock);
    p->gc_surviving += n;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

static HRESULT cb_GarbageCollectionFinished(ICorProfilerCallback3 *iface)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 75);
    pthread_mutex_lock(&p->lock);
    p->gc_finished++;
    bool paired = p->gc_finished <= p->gc_started;
    pthread_mutex_unlock(&p->lock);
    plog("GarbageCollectionFinished");
    if (!paired)
        fail(p, "GarbageCollectionFinished without GarbageCollectionStarted");
    else
        mark(p, SEEN_GC_FINISHED);
    return S_OK;
}

static HRESULT cb_FinalizeableObjectQueued(ICorProfilerCallback3 *iface, DWORD flags, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    char type[NAME_CAP];
    count(p, 76);
    object_type(p, obj, NULL, type, sizeof type);
    plog("FinalizeableObjectQueued flags=0x%X object=0x%lx type=%s", (unsigned)flags,
         (unsigned long)obj, type);
    if (flags & ~(DWORD)COR_PRF_FINALIZER_CRITICAL)
        fail(p, "FinalizeableObjectQueued: flags 0x%X", (unsigned)flags);
    if (strcmp(type, "Hello.Finalizable") == 0)
        mark(p, SEEN_FINALIZABLE_QUEUED);
    return S_OK;
}

static HRESULT cb_RootReferences2(ICorProfilerCallback3 *iface, ULONG n, ObjectID refs[],
                                  COR_PRF_GC_ROOT_KIND kinds[], COR_PRF_GC_ROOT_FLAGS flags[],
                                  UINT_PTR ids[])
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 77);
    if (n && (!refs || !kinds || !flags || !ids)) {
        fail(p, "RootReferences2(%u) with NULL arrays", (unsigned)n);
        return S_OK;
    }
    for (ULONG i = 0; i < n; i++)
        if ((unsigned)kinds[i] > COR_PRF_GC_ROOT_HANDLE || (unsigned)flags[i] > 0xF) {
            fail(p, "RootReferences2: root %u has kind %d flags 0x%X", (unsigned)i, (int)kinds[i],
                 (unsigned)flags[i]);
            return S_OK;
        }
    pthread_mutex_lock(&p->lock);
    p->gc_roots += n;
    pthread_mutex_unlock(&p->lock);
    if (n)
        mark(p, SEEN_ROOTS);
    return S_OK;
}

static HRESULT cb_HandleCreated(ICorProfilerCallback3 *iface, GCHandleID handle, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 78);
    plog("HandleCreated handle=0x%lx object=0x%lx", (unsigned long)handle, (unsigned long)obj);
    if (!handle)
        fail(p, "HandleCreated with a zero handle");
    pthread_mutex_lock(&p->lock);
    if (p->handle_count < sizeof p->handles / sizeof p->handles[0])
        p->handles[p->handle_count++] = handle;
    pthread_mutex_unlock(&p->lock);
    return S_OK;
}

static HRESULT cb_HandleDestroyed(ICorProfilerCallback3 *iface, GCHandleID handle)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    bool known = false;
    count(p, 79);
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < p->handle_count && !known; i++)
        known = p->handles[i] == handle;
    pthread_mutex_unlock(&p->lock);
    plog("HandleDestroyed handle=0x%lx created_here=%d", (unsigned long)handle, known);
    if (known)
        mark(p, SEEN_HANDLE_DESTROYED);
    return S_OK;
}

/* ---- exceptions ---------------------------------------------------------------------- */

static HRESULT cb_ExceptionThrown(ICorProfilerCallback3 *iface, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    char type[NAME_CAP];
    ClassID cls = 0;
    count(p, 54);
    if (!object_type(p, obj, &cls, type, sizeof type))
        return S_OK;
    ULONG size = 0;
    HRESULT hr = info->lpVtbl->GetObjectSize(info, obj, &size);
    expect_hr(p, "GetObjectSize", hr, S_OK);
    CorElementType elem = 0;
    ClassID elem_cls = 0;
    ULONG rank = 0;
    HRESULT arr = info->lpVtbl->IsArrayClass(info, cls, &elem, &elem_cls, &rank);
    expect_hr(p, "IsArrayClass(exception class)", arr, S_FALSE);
    COR_PRF_GC_GENERATION_RANGE range;
    memset(&range, 0xFF, sizeof range);
    hr = info->lpVtbl->GetObjectGeneration(info, obj, &range);
    plog("ExceptionThrown object=0x%lx class=0x%lx size=%u generation=%d gen_hr=0x%08X type=%s",
         (unsigned long)obj, (unsigned long)cls, (unsigned)size, (int)range.generation,
         (unsigned)hr, type);
    if (hr == S_OK && (obj < range.rangeStart || obj >= range.rangeStart + range.rangeLengthReserved))
        fail(p, "GetObjectGeneration: object 0x%lx outside 0x%lx+0x%lx", (unsigned long)obj,
             (unsigned long)range.rangeStart, (unsigned long)range.rangeLengthReserved);
    if (size < 2 * sizeof(void *))
        fail(p, "GetObjectSize: %u bytes", (unsigned)size);
    if (strcmp(type, "System.FormatException") == 0)
        mark(p, SEEN_FORMAT_EXCEPTION);
    return S_OK;
}

/* Logs an exception event naming the function; true when it is SafeParse. */
static bool exception_at(probe *p, unsigned slot, const char *what, FunctionID fid)
{
    method_desc d;
    count(p, slot);
    if (!describe_function(p, fid, &d))
        return false;
    plog("%s fid=0x%lx method=%s", what, (unsigned long)fid, d.full);
    return is_hello(&d, "Hello.Program::SafeParse");
}

static HRESULT cb_ExceptionSearchFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 55, "ExceptionSearchFunctionEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionSearchFunctionLeave, 56, "ExceptionSearchFunctionLeave")

static HRESULT cb_ExceptionSearchFilterEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 57, "ExceptionSearchFilterEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionSearchFilterLeave, 58, "ExceptionSearchFilterLeave")

static HRESULT cb_ExceptionSearchCatcherFound(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    if (exception_at(p, 59, "ExceptionSearchCatcherFound", fid))
        mark(p, SEEN_CATCHER_FOUND);
    return S_OK;
}

static HRESULT cb_ExceptionOSHandlerEnter(ICorProfilerCallback3 *iface, UINT_PTR unused)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 60);
    plog("ExceptionOSHandlerEnter");
    return S_OK;
}

static HRESULT cb_ExceptionOSHandlerLeave(ICorProfilerCallback3 *iface, UINT_PTR unused)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 61);
    plog("ExceptionOSHandlerLeave");
    return S_OK;
}

static HRESULT cb_ExceptionUnwindFunctionEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    if (exception_at(p, 62, "ExceptionUnwindFunctionEnter", fid))
        mark(p, SEEN_UNWIND_SAFEPARSE);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionUnwindFunctionLeave, 63, "ExceptionUnwindFunctionLeave")

static HRESULT cb_ExceptionUnwindFinallyEnter(ICorProfilerCallback3 *iface, FunctionID fid)
{
    exception_at(impl_from_ICorProfilerCallback3(iface), 64, "ExceptionUnwindFinallyEnter", fid);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionUnwindFinallyLeave, 65, "ExceptionUnwindFinallyLeave")

static HRESULT cb_ExceptionCatcherEnter(ICorProfilerCallback3 *iface, FunctionID fid, ObjectID obj)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    ICorProfilerInfo3 *info = p->info;
    if (!exception_at(p, 66, "ExceptionCatcherEnter", fid))
        return S_OK;
    char type[NAME_CAP];
    object_type(p, obj, NULL, type, sizeof type);
    COR_PRF_EX_CLAUSE_INFO clause;
    memset(&clause, 0, sizeof clause);
    HRESULT hr = info->lpVtbl->GetNotifiedExceptionClauseInfo(info, &clause);
    plog("ExceptionCatcherEnter object=0x%lx type=%s clause_hr=0x%08X clause_type=%d pc=0x%lx "
         "frame=0x%lx",
         (unsigned long)obj, type, (unsigned)hr, (int)clause.clauseType,
         (unsigned long)clause.programCounter, (unsigned long)clause.framePointer);
    if (strcmp(type, "System.FormatException") != 0)
        fail(p, "ExceptionCatcherEnter(SafeParse) with a %s", type);
    else if (expect_hr(p, "GetNotifiedExceptionClauseInfo", hr, S_OK) &&
             clause.clauseType == COR_PRF_CLAUSE_CATCH && clause.programCounter)
        mark(p, SEEN_CATCHER_ENTER);
    else
        fail(p, "GetNotifiedExceptionClauseInfo: clause type %d pc 0x%lx", (int)clause.clauseType,
             (unsigned long)clause.programCounter);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionCatcherLeave, 67, "ExceptionCatcherLeave")

static HRESULT cb_COMClassicVTableCreated(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                          void *vtable, ULONG slots)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 68);
    plog("COMClassicVTableCreated class=0x%lx slots=%u", (unsigned long)cls, (unsigned)slots);
    return S_OK;
}

static HRESULT cb_COMClassicVTableDestroyed(ICorProfilerCallback3 *iface, ClassID cls, REFGUID iid,
                                            void *vtable)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 69);
    plog("COMClassicVTableDestroyed class=0x%lx", (unsigned long)cls);
    return S_OK;
}

SIMPLE_EVENT(cb_ExceptionCLRCatcherFound, 70, "ExceptionCLRCatcherFound")
SIMPLE_EVENT(cb_ExceptionCLRCatcherExecute, 71, "ExceptionCLRCatcherExecute")

/* ---- Callback3: attach and detach (a startup profiler never sees these) -------------- */

static HRESULT cb_InitializeForAttach(ICorProfilerCallback3 *iface, IUnknown *unk, void *data,
                                      UINT size)
{
    probe *p = impl_from_ICorProfilerCallback3(iface);
    count(p, 80);
    fail(p, "InitializeForAttach called for a startup profiler");
    return E_NOTIMPL;
}

SIMPLE_EVENT(cb_ProfilerAttachComplete, 81, "ProfilerAttachComplete")
SIMPLE_EVENT(cb_ProfilerDetachSucceeded, 82, "ProfilerDetachSucceeded")

/* Designated initializers: each function lands in the member of that NAME, wherever the
 * header puts it, so the runtime's calls test the header's slot order. */
static const ICorProfilerCallback3Vtbl probe_vtbl = {
    .QueryInterface = cb_QueryInterface,
    .AddRef = cb_AddRef,
    .Release = cb_Release,
    .Initialize = cb_Initialize,
    .Shutdown = cb_Shutdown,
    .AppDomainCreationStarted = cb_AppDomainCreationStarted,
    .AppDomainCreationFinished = cb_AppDomainCreationFinished,
    .AppDomainShutdownStarted = cb_AppDomainShutdownStarted,
    .AppDomainShutdownFinished = cb_AppDomainShutdownFinished,
    .AssemblyLoadStarted = cb_AssemblyLoadStarted,
    .AssemblyLoadFinished = cb_AssemblyLoadFinished,
    .AssemblyUnloadStarted = cb_AssemblyUnloadStarted,
    .AssemblyUnloadFinished = cb_AssemblyUnloadFinished,
    .ModuleLoadStarted = cb_ModuleLoadStarted,
    .ModuleLoadFinished = cb_ModuleLoadFinished,
    .ModuleUnloadStarted = cb_ModuleUnloadStarted,
    .ModuleUnloadFinished = cb_ModuleUnloadFinished,
    .ModuleAttachedToAssembly = cb_ModuleAttachedToAssembly,
    .ClassLoadStarted = cb_ClassLoadStarted,
    .ClassLoadFinished = cb_ClassLoadFinished,
    .ClassUnloadStarted = cb_ClassUnloadStarted,
    .ClassUnloadFinished = cb_ClassUnloadFinished,
    .FunctionUnloadStarted = cb_FunctionUnloadStarted,
    .JITCompilationStarted = cb_JITCompilationStarted,
    .JITCompilationFinished = cb_JITCompilationFinished,
    .JITCachedFunctionSearchStarted = cb_JITCachedFunctionSearchStarted,
    .JITCachedFunctionSearchFinished = cb_JITCachedFunctionSearchFinished,
    .JITFunctionPitched = cb_JITFunctionPitched,
    .JITInlining = cb_JITInlining,
    .ThreadCreated = cb_ThreadCreated,
    .ThreadDestroyed = cb_ThreadDestroyed,
    .ThreadAssignedToOSThread = cb_ThreadAssignedToOSThread,
    .RemotingClientInvocationStarted = cb_RemotingClientInvocationStarted,
    .RemotingClientSendingMessage = cb_RemotingClientSendingMessage,
    .RemotingClientReceivingReply = cb_RemotingClientReceivingReply,
    .RemotingClientInvocationFinished = cb_RemotingClientInvocationFinished,
    .RemotingServerReceivingMessage = cb_RemotingServerReceivingMessage,
    .RemotingServerInvocationStarted = cb_RemotingServerInvocationStarted,
    .RemotingServerInvocationReturned = cb_RemotingServerInvocationReturned,
    .RemotingServerSendingReply = cb_RemotingServerSendingReply,
    .UnmanagedToManagedTransition = cb_UnmanagedToManagedTransition,
    .ManagedToUnmanagedTransition = cb_ManagedToUnmanagedTransition,
    .RuntimeSuspendStarted = cb_RuntimeSuspendStarted,
    .RuntimeSuspendFinished = cb_RuntimeSuspendFinished,
    .RuntimeSuspendAborted = cb_RuntimeSuspendAborted,
    .RuntimeResumeStarted = cb_RuntimeResumeStarted,
    .RuntimeResumeFinished = cb_RuntimeResumeFinished,
    .RuntimeThreadSuspended = cb_RuntimeThreadSuspended,
    .RuntimeThreadResumed = cb_RuntimeThreadResumed,
    .MovedReferences = cb_MovedReferences,
    .ObjectAllocated = cb_ObjectAllocated,
    .ObjectsAllocatedByClass = cb_ObjectsAllocatedByClass,
    .ObjectReferences = cb_ObjectReferences,
    .RootReferences = cb_RootReferences,
    .ExceptionThrown = cb_ExceptionThrown,
    .ExceptionSearchFunctionEnter = cb_ExceptionSearchFunctionEnter,
    .ExceptionSearchFunctionLeave = cb_ExceptionSearchFunctionLeave,
    .ExceptionSearchFilterEnter = cb_ExceptionSearchFilterEnter,
    .ExceptionSearchFilterLeave = cb_ExceptionSearchFilterLeave,
    .ExceptionSearchCatcherFound = cb_ExceptionSearchCatcherFound,
    .ExceptionOSHandlerEnter = cb_ExceptionOSHandlerEnter,
    .ExceptionOSHandlerLeave = cb_ExceptionOSHandlerLeave,
    .ExceptionUnwindFunctionEnter = cb_ExceptionUnwindFunctionEnter,
    .ExceptionUnwindFunctionLeave = cb_ExceptionUnwindFunctionLeave,
    .ExceptionUnwindFinallyEnter = cb_ExceptionUnwindFinallyEnter,
    .ExceptionUnwindFinallyLeave = cb_ExceptionUnwindFinallyLeave,
    .ExceptionCatcherEnter = cb_ExceptionCatcherEnter,
    .ExceptionCatcherLeave = cb_ExceptionCatcherLeave,
    .COMClassicVTableCreated = cb_COMClassicVTableCreated,
    .COMClassicVTableDestroyed = cb_COMClassicVTableDestroyed,
    .ExceptionCLRCatcherFound = cb_ExceptionCLRCatcherFound,
    .ExceptionCLRCatcherExecute = cb_ExceptionCLRCatcherExecute,
    .ThreadNameChanged = cb_ThreadNameChanged,
    .GarbageCollectionStarted = cb_GarbageCollectionStarted,
    .SurvivingReferences = cb_SurvivingReferences,
    .GarbageCollectionFinished = cb_GarbageCollectionFinished,
    .FinalizeableObjectQueued = cb_FinalizeableObjectQueued,
    .RootReferences2 = cb_RootReferences2,
    .HandleCreated = cb_HandleCreated,
    .HandleDestroyed = cb_HandleDestroyed,
    .InitializeForAttach = cb_InitializeForAttach,
    .ProfilerAttachComplete = cb_ProfilerAttachComplete,
    .ProfilerDetachSucceeded = cb_ProfilerDetachSucceeded,
};

/* ---- the class factory and the entry point ------------------------------------------- */

static atomic_uint factory_refs;

static HRESULT cf_QueryInterface(IClassFactory *iface, REFIID riid, void **ppv)
{
    char g[GUID_TEXT_SIZE];
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    HRESULT hr = E_NOINTERFACE;
    if (IsEqualGUID(riid, &IID_IUnknown) || IsEqualGUID(riid, &IID_IClassFactory)) {
        *ppv = iface;
        iface->lpVtbl->AddRef(iface);
        hr = S_OK;
    }
    plog("FactoryQI iid=%s name=%s hr=0x%08X", guid_text(riid, g), iid_name(riid),
         (unsigned)hr);
    return hr;
}

/* The factory is a static object; its count only says who still holds it. */
static ULONG cf_AddRef(IClassFactory *iface)
{
    return atomic_fetch_add(&factory_refs, 1) + 1;
}

static ULONG cf_Release(IClassFactory *iface)
{
    return atomic_fetch_sub(&factory_refs, 1) - 1;
}

static HRESULT cf_CreateInstance(IClassFactory *iface, IUnknown *outer, REFIID riid, void **ppv)
{
    char g[GUID_TEXT_SIZE];
    plog("CreateInstance outer=%p iid=%s name=%s", (void *)outer, guid_text(riid, g),
         iid_name(riid));
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (outer)
        return CLASS_E_NOAGGREGATION;
    probe *p = calloc(1, sizeof *p);
    if (!p)
        return E_OUTOFMEMORY;
    p->ICorProfilerCallback3_iface.lpVtbl = &probe_vtbl;
    atomic_init(&p->refs, 1);
    pthread_mutex_init(&p->lock, NULL);
    const char *rw = getenv("ILG_ABI_PROBE_REWRITE");
    p->rewrite = rw && strcmp(rw, "1") == 0;
    const char *tr = getenv("ILG_ABI_PROBE_TRANSITIONS");
    p->transitions = !(tr && strcmp(tr, "0") == 0);
    const char *maxcb = getenv("ILG_ABI_PROBE_MAX_CALLBACK");
    p->max_callback = maxcb && *maxcb ? atoi(maxcb) : 3;
    const char *high = getenv("ILG_ABI_PROBE_HIGH");
    p->high = high && *high ? (DWORD)strtoul(high, NULL, 16) : 0;
    const char *noopt = getenv("ILG_ABI_PROBE_NOOPT");
    p->noopt = noopt && strcmp(noopt, "1") == 0;
    if (p->max_callback >= 4)
        p->ICorProfilerCallback3_iface.lpVtbl = probe_vtbl_through_11(&probe_vtbl);
    ICorProfilerCallback3 *cb = &p->ICorProfilerCallback3_iface;
    in_create_instance = true;
    HRESULT hr = cb->lpVtbl->QueryInterface(cb, riid, ppv);
    in_create_instance = false;
    cb->lpVtbl->Release(cb);   /* the QI reference (if any) keeps it alive */
    return hr;
}

static HRESULT cf_LockServer(IClassFactory *iface, BOOL lock)
{
    plog("LockServer lock=%d", (int)lock);
    return S_OK;
}

static const IClassFactoryVtbl factory_vtbl = {
    .QueryInterface = cf_QueryInterface,
    .AddRef = cf_AddRef,
    .Release = cf_Release,
    .CreateInstance = cf_CreateInstance,
    .LockServer = cf_LockServer,
};
static IClassFactory factory = { &factory_vtbl };

PROBE_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv);
PROBE_EXPORT HRESULT DllGetClassObject(REFCLSID rclsid, REFIID riid, void **ppv)
{
    char c[GUID_TEXT_SIZE], i[GUID_TEXT_SIZE];
    plog("DllGetClassObject clsid=%s iid=%s name=%s", guid_text(rclsid, c),
         guid_text(riid, i), iid_name(riid));
    if (!ppv)
        return E_POINTER;
    *ppv = NULL;
    if (!IsEqualGUID(rclsid, &CLSID_IlgAbiProbe))
        return CLASS_E_CLASSNOTAVAILABLE;
    /* Every slot filled (a designated initializer that missed one leaves NULL). */
    void *const *slots = (void *const *)&probe_vtbl;
    for (size_t k = 0; k < sizeof probe_vtbl / sizeof(void *); k++)
        if (!slots[k]) {
            plog("FAIL: callback vtable slot %zu is empty", k);
            return E_UNEXPECTED;
        }
    return factory.lpVtbl->QueryInterface(&factory, riid, ppv);
}
