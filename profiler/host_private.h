/* host_private.h: the harness host's records, shared by host.c (loading, the run,
 * reports), info.c (ICorProfilerInfo3) and mdimport.c (IMetaDataImport). Not installed.
 *
 * IDs handed to the profiler are addresses of these records: a ModuleID is a
 * host_module *, a FunctionID a host_method *, an AssemblyID the module's assembly
 * member, the AppDomainID the host's domain member. Every ID that comes back from
 * the profiler is looked up among the live records before it is used, so a wrong
 * one gives E_INVALIDARG, never a wild read. */
#ifndef ILG_HOST_PRIVATE_H
#define ILG_HOST_PRIVATE_H

#include "ilgraft/arena.h"
#include "ilgraft/host.h"
#include "ilgraft/hostmem.h"
#include "ilgraft/ilbody.h"
#include "ilgraft/loader.h"
#include "ilgraft/metadata.h"

#include "ilg_private.h"

#define HRESULT_INSUFFICIENT_BUFFER ((HRESULT)0x8007007A)

typedef struct host_module host_module;

typedef struct host_method {
    host_module *module;
    uint32_t token;
    ilg_body_kind kind;
    uint32_t old_rva, old_size;
    uint32_t new_rva, new_size;
    const uint8_t *current;      /* header of the current body (image or arena), or NULL */
    uint32_t current_size;
    ilg_host_method_status status;
    bool jitted;
    char *name;                  /* host heap, made on first need */
    char *diagnostic;            /* host heap */
} host_method;

typedef struct host_mdimport {
    IMetaDataImport iface;
    ULONG refs;                  /* references the profiler holds */
    host_module *module;
} host_mdimport;

struct host_module {
    ilg_host *host;
    char *path;                  /* as given (host heap) */
    char *full_path;             /* absolute, what GetModuleInfo reports (host heap) */
    ilg_image *img;
    const ilg_metadata *md;
    ilg_image_info info;
    ilg_arena *arena;
    uint32_t method_count;
    host_method *methods;        /* [rid - 1], host heap */
    char assembly;               /* its address is the AssemblyID */
    host_mdimport importer;
};

struct ilg_host {
    ICorProfilerInfo3 info;      /* the object handed to Initialize */
    ULONG info_refs;
    IHostMemoryManager *memory;
    IHostMalloc *heap;
    FILE *log;
    bool trace;
    char *pattern;               /* host heap */

    void *lib;                   /* dlopen handle */
    ICorProfilerCallback3 *callback;
    int callback_version;
    char clsid_text[ILG_GUID_TEXT_SIZE + 2];
    DWORD event_mask;
    bool initializing;           /* inside Initialize: immutable flags may change */
    bool ran;
    /* SetILFunctionBody's decode and verify state, kept between calls (the host is
     * single-threaded): made on first use, freed with the host. */
    ilg_body *check_body;
    ilg_findings check_findings;

    char domain;                 /* its address is the AppDomainID */
    char thread;                 /* its address is the ThreadID */
    host_module **modules;       /* host heap */
    uint32_t module_count, module_cap;
};

/* info.c */
void ilg__host_info_init(ilg_host *host);
/* Checks id against the live records; NULL when it is not one of them. */
host_module *ilg__host_find_module(const ilg_host *host, UINT_PTR id);
host_method *ilg__host_find_method(const ilg_host *host, UINT_PTR id);
/* Method rid of a MethodDef token in module m, 0 when it is not one. */
uint32_t ilg__host_method_rid(const host_module *m, mdToken token);
/* The method's display name (made and cached on first use), or "?" when out of memory. */
const char *ilg__host_method_name(host_method *meth);
/* Copies UTF-8 text into a UTF-16 buffer of cch units with the metadata API's rules:
 * *pch (optional) receives the length with the NUL; returns true when it fit. */
bool ilg__host_to_wide(const char *text, WCHAR *buf, ULONG cch, ULONG *pch);
/* UTF-16 to UTF-8 into buf; false when it does not fit or is not valid. */
bool ilg__host_from_wide(const WCHAR *text, char *buf, size_t size);
/* Records a trace line and the isolation slot's last-callback text. */
void ilg__host_enter_callback(ilg_host *host, const char *name);

/* mdimport.c */
void ilg__host_mdimport_init(host_module *m);

/* isolate.c: the shared page of the current isolated child, or NULL. */
extern char *ilg__isolate_last_callback;

#endif
