/* abi_alone.c: a translation unit that includes corprof.h alone, as a third-party
 * profiler does, and proves at compile time that none of ilgraft's own API comes with
 * it: each name below is redeclared as something else, which the compiler refuses if
 * the header had declared it. tests/unit/abi_alone.sh checks the preprocessed text of
 * every ABI header for any ilg_ or ILG_ name at all, and builds this file. */
#include "ilgraft/corprof.h"

/* ilgraft's types and functions the ABI headers used to pull in (arena.h, hostmem.h,
 * loader.h, common.h, com.h). */
typedef int ilg_status;
typedef int ilg_image;
typedef int ilg_arena;
typedef int ilg_hostmem_options;
int ilg_guid_equal;
int ilg_guid_format;
int ilg_arena_method_malloc;
int ilg_hostmem_create;
int ilg_last_diag;

#if defined(ILG_API) || defined(ILG_OK) || defined(ILG_GUID_INIT) || \
    defined(ILG_GUID_TEXT_SIZE) || defined(ILG_HOST_ALLOC) || defined(ILGRAFT_COMMON_H) || \
    defined(ILGRAFT_LOADER_H) || defined(ILGRAFT_ARENA_H) || defined(ILGRAFT_HOSTMEM_H) || \
    defined(ILGRAFT_COM_H)
#error "corprof.h pulled in ilgraft's own API"
#endif

/* What the ABI must provide on its own: the interfaces, the IIDs and the comparison. */
int abi_alone_check(REFIID riid);
int abi_alone_check(REFIID riid)
{
    ICorProfilerInfo3 *info = NULL;
    IMethodMalloc *malloc_iface = NULL;
    IHostMalloc *heap = NULL;
    IMetaDataImport2 *import = NULL;
    (void)info;
    (void)malloc_iface;
    (void)heap;
    (void)import;
    return IsEqualGUID(riid, &IID_ICorProfilerCallback3) && MEM_COMMIT == 0x1000 &&
           PAGE_READWRITE == 0x04;
}
