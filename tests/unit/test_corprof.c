/* test_corprof.c: the profiling ABI header (corprof.h, cor_md.h and the COM headers it
 * pulls in). The slot offsets themselves are _Static_asserts in corprof.h; this suite
 * checks what a compile-time assert cannot: that corprof_slots.def numbers every slot
 * of every vtable exactly once, that the anchor slots agree with the reference notes,
 * that every IID matches its canonical text form, and the sizes and layouts of the
 * structs and constants the runtime reads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "ilgraft/com.h"
#include "ilgraft/corprof.h"

/* ---- the slot list as data ---------------------------------------------------------- */

typedef struct slot_entry {
    const char *iface;
    int version;
    const char *method;
    unsigned slot;
} slot_entry;

static const slot_entry slot_list[] = {
#define CORPROF_SLOT(iface, version, method, slot) { #iface, version, #method, slot },
#include "ilgraft/corprof_slots.def"
#undef CORPROF_SLOT
};
#define SLOT_COUNT (sizeof slot_list / sizeof slot_list[0])

typedef struct vtbl_info {
    const char *iface;   /* family name in the .def */
    int version;
    const char *name;
    size_t size;
} vtbl_info;

#define VT(fam, ver, type) { #fam, ver, #type, sizeof(type) }
static const vtbl_info vtbls[] = {
    VT(IUnknown, 1, IUnknownVtbl),
    VT(IClassFactory, 1, IClassFactoryVtbl),
    VT(IMethodMalloc, 1, IMethodMallocVtbl),
    VT(IHostMalloc, 1, IHostMallocVtbl),
    VT(IHostMemoryManager, 1, IHostMemoryManagerVtbl),
    VT(ICLRMemoryNotificationCallback, 1, ICLRMemoryNotificationCallbackVtbl),
    VT(IMetaDataImport, 1, IMetaDataImportVtbl),
    VT(IMetaDataImport, 2, IMetaDataImport2Vtbl),
    VT(IMetaDataAssemblyImport, 1, IMetaDataAssemblyImportVtbl),
    VT(IMetaDataEmit, 1, IMetaDataEmitVtbl),
    VT(IMetaDataEmit, 2, IMetaDataEmit2Vtbl),
    VT(IMetaDataAssemblyEmit, 1, IMetaDataAssemblyEmitVtbl),
    VT(ICorProfilerObjectEnum, 1, ICorProfilerObjectEnumVtbl),
    VT(ICorProfilerFunctionEnum, 1, ICorProfilerFunctionEnumVtbl),
    VT(ICorProfilerModuleEnum, 1, ICorProfilerModuleEnumVtbl),
    VT(ICorProfilerThreadEnum, 1, ICorProfilerThreadEnumVtbl),
    VT(ICorProfilerMethodEnum, 1, ICorProfilerMethodEnumVtbl),
    VT(ICorProfilerFunctionControl, 1, ICorProfilerFunctionControlVtbl),
    VT(ICorProfilerCallback, 1, ICorProfilerCallbackVtbl),
    VT(ICorProfilerCallback, 2, ICorProfilerCallback2Vtbl),
    VT(ICorProfilerCallback, 3, ICorProfilerCallback3Vtbl),
    VT(ICorProfilerInfo, 1, ICorProfilerInfoVtbl),
    VT(ICorProfilerInfo, 2, ICorProfilerInfo2Vtbl),
    VT(ICorProfilerInfo, 3, ICorProfilerInfo3Vtbl),
    VT(ICorProfilerInfo, 4, ICorProfilerInfo4Vtbl),
    VT(ICorProfilerInfo, 5, ICorProfilerInfo5Vtbl),
    VT(ICorProfilerInfo, 6, ICorProfilerInfo6Vtbl),
    VT(ICorProfilerInfo, 7, ICorProfilerInfo7Vtbl),
    VT(ICorProfilerInfo, 8, ICorProfilerInfo8Vtbl),
    VT(ICorProfilerInfo, 9, ICorProfilerInfo9Vtbl),
    VT(ICorProfilerInfo, 10, ICorProfilerInfo10Vtbl),
    VT(ICorProfilerInfo, 11, ICorProfilerInfo11Vtbl),
    VT(ICorProfilerInfo, 12, ICorProfilerInfo12Vtbl),
    VT(ICorProfilerInfo, 13, ICorProfilerInfo13Vtbl),
    VT(ICorProfilerInfo, 14, ICorProfilerInfo14Vtbl),
    VT(ICorProfilerInfo, 15, ICorProfilerInfo15Vtbl),
};
#undef VT

static bool entry_in_vtbl(const slot_entry *e, const vtbl_info *v)
{
    if (strcmp(e->iface, "IUnknown") == 0)
        return true;
    return strcmp(e->iface, v->iface) == 0 && e->version <= v->version;
}

START_TEST(slot_list_covers_every_slot_once)
{
    const vtbl_info *v = &vtbls[_i];
    ck_assert_uint_eq(v->size % sizeof(void *), 0);
    const size_t n = v->size / sizeof(void *);
    unsigned *seen = calloc(n, sizeof *seen);
    ck_assert_ptr_nonnull(seen);
    for (size_t k = 0; k < SLOT_COUNT; k++) {
        const slot_entry *e = &slot_list[k];
        if (!entry_in_vtbl(e, v))
            continue;
        ck_assert_msg(e->slot < n, "%s: %s is listed at slot %u, past the %zu-slot vtable",
                      v->name, e->method, e->slot, n);
        seen[e->slot]++;
    }
    for (size_t s = 0; s < n; s++)
        ck_assert_msg(seen[s] == 1, "%s: slot %zu is listed %u times in corprof_slots.def",
                      v->name, s, seen[s]);
    free(seen);
}
END_TEST

START_TEST(slot_list_names_are_unique_per_interface)
{
    for (size_t a = 0; a < SLOT_COUNT; a++)
        for (size_t b = a + 1; b < SLOT_COUNT; b++)
            ck_assert_msg(!(strcmp(slot_list[a].iface, slot_list[b].iface) == 0 &&
                            strcmp(slot_list[a].method, slot_list[b].method) == 0),
                          "%s::%s listed twice", slot_list[a].iface, slot_list[a].method);
}
END_TEST

#define SLOT_OF(vtbl, method) (offsetof(vtbl, method) / sizeof(void *))

/* Slot numbers stated in /work/shared/reference/clr-profiling-abi.md, a source
 * separate from the numbering in corprof_slots.def. */
START_TEST(anchor_slots_match_the_reference_notes)
{
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, Initialize), 3);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, ModuleLoadFinished), 14);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, JITCompilationStarted), 23);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, ExceptionCLRCatcherExecute), 71);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, ThreadNameChanged), 72);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, HandleDestroyed), 79);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, InitializeForAttach), 80);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerCallback3Vtbl, ProfilerDetachSucceeded), 82);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetClassFromObject), 3);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetFunctionInfo), 15);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, SetEventMask), 16);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetModuleInfo), 20);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetModuleMetaData), 21);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetILFunctionBody), 22);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetILFunctionBodyAllocator), 23);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, SetILFunctionBody), 24);
    ck_assert_uint_eq(SLOT_OF(ICorProfilerInfo3Vtbl, GetILToNativeMapping), 35);
    ck_assert_uint_eq(SLOT_OF(IMethodMallocVtbl, Alloc), 3);
    ck_assert_uint_eq(SLOT_OF(IHostMallocVtbl, Free), 5);
    ck_assert_uint_eq(SLOT_OF(IHostMemoryManagerVtbl, CreateMalloc), 3);
    ck_assert_uint_eq(SLOT_OF(IHostMemoryManagerVtbl, ReleasedVirtualAddressSpace), 12);
    /* A derived interface is its base with slots appended: same offsets. */
    ck_assert_uint_eq(offsetof(ICorProfilerCallbackVtbl, ExceptionCLRCatcherExecute),
                      offsetof(ICorProfilerCallback3Vtbl, ExceptionCLRCatcherExecute));
    ck_assert_uint_eq(offsetof(ICorProfilerInfoVtbl, GetILToNativeMapping),
                      offsetof(ICorProfilerInfo3Vtbl, GetILToNativeMapping));
    ck_assert_uint_eq(offsetof(ICorProfilerInfo2Vtbl, GetNotifiedExceptionClauseInfo),
                      offsetof(ICorProfilerInfo3Vtbl, GetNotifiedExceptionClauseInfo));
    ck_assert_uint_eq(offsetof(IMetaDataImportVtbl, IsGlobal),
                      offsetof(IMetaDataImport2Vtbl, IsGlobal));
}
END_TEST

/* ---- IIDs against their registry text form ------------------------------------------ */

typedef struct iid_case {
    const IID *iid;
    const char *name;
    const char *text;
} iid_case;

#define IC(name, text) { &IID_##name, #name, text }
static const iid_case iids[] = {
    /* From the reference notes. */
    IC(IUnknown, "00000000-0000-0000-C000-000000000046"),
    IC(IClassFactory, "00000001-0000-0000-C000-000000000046"),
    IC(ICorProfilerCallback, "176FBED1-A55C-4796-98CA-A9DA0EF883E7"),
    IC(ICorProfilerCallback2, "8A8CC829-CCF2-49FE-BBAE-0F022228071A"),
    IC(ICorProfilerCallback3, "4FD2ED52-7731-4B8D-9469-03D2CC3086C5"),
    IC(ICorProfilerInfo, "28B5557D-3F3F-48B4-90B2-5F9EEA2F6C48"),
    IC(ICorProfilerInfo2, "CC0935CD-A518-487D-B0BB-A93214E65478"),
    IC(ICorProfilerInfo3, "B555ED4F-452A-4E54-8B39-B5360BAD32A0"),
    IC(IMethodMalloc, "A0EFB28B-6EE2-4D7B-B983-A75EF7BEEDB8"),
    IC(IHostMalloc, "1831991C-CC53-4A31-B218-04E910446479"),
    IC(IHostMemoryManager, "7BC698D1-F9E3-4460-9CDE-D04248E9FA25"),
    /* From corprof.idl and cor.h (uuid(...) attributes, EXTERN_GUID comments). */
    IC(ICorProfilerCallback4, "7B63B2E3-107D-4D48-B2F6-F61E229470D2"),
    IC(ICorProfilerCallback5, "8DFBA405-8C9F-45F8-BFFA-83B14CEF78B5"),
    IC(ICorProfilerCallback6, "FC13DF4B-4448-4F4F-950C-BA8D19D00C36"),
    IC(ICorProfilerCallback7, "F76A2DBA-1D52-4539-866C-2AA518F9EFC3"),
    IC(ICorProfilerCallback8, "5BED9B15-C079-4D47-BFE2-215A140C07E0"),
    IC(ICorProfilerCallback9, "27583EC3-C8F5-482F-8052-194B8CE4705A"),
    IC(ICorProfilerCallback10, "CEC5B60E-C69C-495F-87F6-84D28EE16FFB"),
    IC(ICorProfilerCallback11, "42350846-AAED-47F7-B128-FD0C98881CDE"),
    IC(ICorProfilerInfo4, "0D8FDCAA-6257-47BF-B1BF-94DAC88466EE"),
    IC(ICorProfilerInfo5, "07602928-CE38-4B83-81E7-74ADAF781214"),
    IC(ICorProfilerInfo6, "F30A070D-BFFB-46A7-B1D8-8781EF7B698A"),
    IC(ICorProfilerInfo7, "9AEECC0D-63E0-4187-8C00-E312F503F663"),
    IC(ICorProfilerInfo8, "C5AC80A6-782E-4716-8044-39598C60CFBF"),
    IC(ICorProfilerInfo9, "008170DB-F8CC-4796-9A51-DC8AA0B47012"),
    IC(ICorProfilerInfo10, "2F1B5152-C869-40C9-AA5F-3ABE026BD720"),
    IC(ICorProfilerInfo11, "06398876-8987-4154-B621-40A00D6E4D04"),
    IC(ICorProfilerInfo12, "27B24CCD-1CB1-47C5-96EE-98190DC30959"),
    IC(ICorProfilerInfo13, "6E6C7EE2-0701-4EC2-9D29-2E8733B66934"),
    IC(ICorProfilerInfo14, "F460E352-D76D-4FE9-835F-F6AF9D6E862D"),
    IC(ICorProfilerInfo15, "B446462D-BD22-41DD-872D-DC714C49EB56"),
    IC(ICorProfilerObjectEnum, "2C6269BD-2D13-4321-AE12-6686365FD6AF"),
    IC(ICorProfilerFunctionEnum, "FF71301A-B994-429D-A10B-B345A65280EF"),
    IC(ICorProfilerModuleEnum, "B0266D75-2081-4493-AF7F-028BA34DB891"),
    IC(ICorProfilerThreadEnum, "571194F7-25ED-419F-AA8B-7016B3159701"),
    IC(ICorProfilerMethodEnum, "FCCEE788-0088-454B-A811-C99F298D1942"),
    IC(ICorProfilerFunctionControl, "F0963021-E1EA-4732-8581-E01B0BD3C0C6"),
    IC(ICorProfilerAssemblyReferenceProvider, "66A78C24-2EEF-4F65-B45F-DD1D8038BF3C"),
    IC(IMetaDataImport, "7DAC8207-D3AE-4C75-9B67-92801A497D44"),
    IC(IMetaDataImport2, "FCE5EFA0-8BBA-4F8E-A036-8F2022B08466"),
    IC(IMetaDataEmit, "BA3FEE4C-ECB9-4E41-83B7-183FA41CD859"),
    IC(IMetaDataEmit2, "F5DD9950-F693-42E6-830E-7B833E8146A9"),
    IC(IMetaDataAssemblyEmit, "211EF15B-5317-4438-B196-DEC87B887693"),
    IC(IMetaDataAssemblyImport, "EE62470B-E94B-424E-9B7C-2F00C9249F93"),
};
#undef IC

START_TEST(iids_match_their_text_forms)
{
    char buf[ILG_GUID_TEXT_SIZE];
    for (size_t i = 0; i < sizeof iids / sizeof iids[0]; i++) {
        ilg_guid_format(iids[i].iid, buf);
        ck_assert_msg(strcmp(buf, iids[i].text) == 0, "IID_%s is %s, want %s", iids[i].name,
                      buf, iids[i].text);
    }
    /* Distinct interfaces have distinct IIDs (a copy-paste slip would collide). */
    for (size_t a = 0; a < sizeof iids / sizeof iids[0]; a++)
        for (size_t b = a + 1; b < sizeof iids / sizeof iids[0]; b++)
            ck_assert_msg(!IsEqualGUID(iids[a].iid, iids[b].iid), "IID_%s == IID_%s",
                          iids[a].name, iids[b].name);
}
END_TEST

/* ---- struct layouts (System V x86-64, as the runtime's C++ compiler lays them out) --- */

START_TEST(struct_sizes_and_layouts)
{
    ck_assert_uint_eq(sizeof(WCHAR), 2);
    ck_assert_uint_eq(sizeof(ULONG), 4);
    ck_assert_uint_eq(sizeof(ULONG32), 4);
    ck_assert_uint_eq(sizeof(HRESULT), 4);
    ck_assert_uint_eq(sizeof(BOOL), 4);
    ck_assert_uint_eq(sizeof(mdToken), 4);
    ck_assert_uint_eq(sizeof(CorElementType), 4);
    ck_assert_uint_eq(sizeof(ModuleID), 8);
    ck_assert_uint_eq(sizeof(FunctionID), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_FRAME_INFO), 8);
    ck_assert_int_lt((HRESULT)0x80000000u, 0);   /* HRESULT is signed */
    ck_assert_uint_eq(sizeof(GUID), 16);

    ck_assert_uint_eq(sizeof(COR_IL_MAP), 12);
    ck_assert_uint_eq(offsetof(COR_IL_MAP, fAccurate), 8);
    ck_assert_uint_eq(sizeof(COR_DEBUG_IL_TO_NATIVE_MAP), 12);
    ck_assert_uint_eq(offsetof(COR_DEBUG_IL_TO_NATIVE_MAP, nativeEndOffset), 8);
    ck_assert_uint_eq(sizeof(COR_FIELD_OFFSET), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_CODE_INFO), 16);
    ck_assert_uint_eq(offsetof(COR_PRF_CODE_INFO, size), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_FUNCTION_ARGUMENT_RANGE), 16);
    ck_assert_uint_eq(offsetof(COR_PRF_FUNCTION_ARGUMENT_RANGE, length), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_FUNCTION_ARGUMENT_INFO), 24);
    ck_assert_uint_eq(offsetof(COR_PRF_FUNCTION_ARGUMENT_INFO, totalArgumentSize), 4);
    ck_assert_uint_eq(offsetof(COR_PRF_FUNCTION_ARGUMENT_INFO, ranges), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_FUNCTION), 16);
    ck_assert_uint_eq(sizeof(COR_PRF_METHOD), 16);
    ck_assert_uint_eq(offsetof(COR_PRF_METHOD, methodId), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_GC_GENERATION_RANGE), 32);
    ck_assert_uint_eq(offsetof(COR_PRF_GC_GENERATION_RANGE, rangeStart), 8);
    ck_assert_uint_eq(offsetof(COR_PRF_GC_GENERATION_RANGE, rangeLengthReserved), 24);
    ck_assert_uint_eq(sizeof(COR_PRF_EX_CLAUSE_INFO), 32);
    ck_assert_uint_eq(offsetof(COR_PRF_EX_CLAUSE_INFO, programCounter), 8);
    ck_assert_uint_eq(offsetof(COR_PRF_EX_CLAUSE_INFO, shadowStackPointer), 24);
    ck_assert_uint_eq(sizeof(FunctionIDOrClientID), 8);
    ck_assert_uint_eq(sizeof(COR_PRF_GC_ROOT_KIND), 4);
    ck_assert_uint_eq(sizeof(COR_PRF_SUSPEND_REASON), 4);
    /* An interface pointer is a pointer to a pointer to the vtable. */
    ck_assert_uint_eq(sizeof(ICorProfilerInfo3), sizeof(void *));
    ck_assert_uint_eq(sizeof(IMetaDataImport), sizeof(void *));
}
END_TEST

/* ---- HRESULTs and flags ------------------------------------------------------------- */

/* corerror.h builds its codes as MAKE_HRESULT(severity, FACILITY_URT = 0x13, code). */
#define URT_ERROR(code) ((HRESULT)(0x80000000u | (0x13u << 16) | (uint32_t)(code)))
#define URT_SUCCESS(code) ((HRESULT)((0x13u << 16) | (uint32_t)(code)))

START_TEST(hresults_are_the_runtime_codes)
{
    /* Literal values from the reference notes. */
    ck_assert_int_eq(CORPROF_E_DATAINCOMPLETE, (HRESULT)0x80131351);
    ck_assert_int_eq(CORPROF_E_FUNCTION_NOT_IL, (HRESULT)0x80131354);
    ck_assert_int_eq(COR_E_INVALIDPROGRAM, (HRESULT)0x8013153A);
    /* The facility/code construction of corerror.h. */
    ck_assert_int_eq(CORPROF_E_FUNCTION_NOT_COMPILED, URT_ERROR(0x1350));
    ck_assert_int_eq(CORPROF_E_NOT_MANAGED_THREAD, URT_ERROR(0x1355));
    ck_assert_int_eq(CORPROF_E_CALLBACK3_REQUIRED, URT_ERROR(0x136E));
    ck_assert_int_eq(CORPROF_E_IMMUTABLE_FLAGS_SET, URT_ERROR(0x1372));
    ck_assert_int_eq(CORPROF_E_REJIT_NOT_ENABLED, URT_ERROR(0x137C));
    ck_assert_int_eq(CLDB_E_RECORD_NOTFOUND, URT_ERROR(0x1130));
    ck_assert_int_eq(CLDB_E_FILE_CORRUPT, URT_ERROR(0x110E));
    ck_assert_int_eq(META_E_BAD_SIGNATURE, URT_ERROR(0x1192));
    ck_assert_int_eq(META_E_INVALID_TOKEN_TYPE, URT_ERROR(0x115F));
    ck_assert_int_eq(CLDB_S_TRUNCATION, URT_SUCCESS(0x1106));
    ck_assert(SUCCEEDED(CLDB_S_TRUNCATION));
    ck_assert(FAILED(CORPROF_E_FUNCTION_NOT_IL));
    ck_assert_int_eq(HOST_E_INVALIDOPERATION, URT_ERROR(0x1022));
    ck_assert_int_eq(E_UNEXPECTED, (HRESULT)0x8000FFFF);
    ck_assert_int_eq(CLASS_E_CLASSNOTAVAILABLE, (HRESULT)0x80040111);
}
END_TEST

START_TEST(event_mask_bits)
{
    /* Values from the reference notes. */
    ck_assert_uint_eq(COR_PRF_MONITOR_MODULE_LOADS, 0x4);
    ck_assert_uint_eq(COR_PRF_MONITOR_ASSEMBLY_LOADS, 0x8);
    ck_assert_uint_eq(COR_PRF_MONITOR_APPDOMAIN_LOADS, 0x10);
    ck_assert_uint_eq(COR_PRF_MONITOR_JIT_COMPILATION, 0x20);
    ck_assert_uint_eq(COR_PRF_ENABLE_REJIT, 0x40000);
    ck_assert_uint_eq(COR_PRF_DISABLE_INLINING, 0x200000);
    ck_assert_uint_eq(COR_PRF_DISABLE_OPTIMIZATIONS, 0x400000);
    ck_assert_uint_eq(COR_PRF_DISABLE_ALL_NGEN_IMAGES, 0x80000000u);
    /* The single-bit flags are distinct bits that use up all 32 (COR_PRF_ALL leaves out
     * the three option bits 0x70000000, as the IDL does). */
    const DWORD bits[] = {
        COR_PRF_MONITOR_FUNCTION_UNLOADS, COR_PRF_MONITOR_CLASS_LOADS,
        COR_PRF_MONITOR_MODULE_LOADS, COR_PRF_MONITOR_ASSEMBLY_LOADS,
        COR_PRF_MONITOR_APPDOMAIN_LOADS, COR_PRF_MONITOR_JIT_COMPILATION,
        COR_PRF_MONITOR_EXCEPTIONS, COR_PRF_MONITOR_GC, COR_PRF_MONITOR_OBJECT_ALLOCATED,
        COR_PRF_MONITOR_THREADS, COR_PRF_MONITOR_REMOTING, COR_PRF_MONITOR_CODE_TRANSITIONS,
        COR_PRF_MONITOR_ENTERLEAVE, COR_PRF_MONITOR_CCW,
        COR_PRF_MONITOR_REMOTING_COOKIE & ~COR_PRF_MONITOR_REMOTING,
        COR_PRF_MONITOR_REMOTING_ASYNC & ~COR_PRF_MONITOR_REMOTING, COR_PRF_MONITOR_SUSPENDS,
        COR_PRF_MONITOR_CACHE_SEARCHES, COR_PRF_ENABLE_REJIT, COR_PRF_ENABLE_INPROC_DEBUGGING,
        COR_PRF_ENABLE_JIT_MAPS, COR_PRF_DISABLE_INLINING, COR_PRF_DISABLE_OPTIMIZATIONS,
        COR_PRF_ENABLE_OBJECT_ALLOCATED, COR_PRF_MONITOR_CLR_EXCEPTIONS,
        COR_PRF_ENABLE_FUNCTION_ARGS, COR_PRF_ENABLE_FUNCTION_RETVAL, COR_PRF_ENABLE_FRAME_INFO,
        COR_PRF_ENABLE_STACK_SNAPSHOT, COR_PRF_USE_PROFILE_IMAGES,
        COR_PRF_DISABLE_TRANSPARENCY_CHECKS_UNDER_FULL_TRUST, COR_PRF_DISABLE_ALL_NGEN_IMAGES,
    };
    DWORD all = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        ck_assert_msg(bits[i] != 0 && (bits[i] & (bits[i] - 1)) == 0, "flag %zu: 0x%x", i,
                      (unsigned)bits[i]);
        ck_assert_msg((all & bits[i]) == 0, "flag %zu (0x%x) reuses a bit", i, (unsigned)bits[i]);
        all |= bits[i];
    }
    ck_assert_uint_eq(all, 0xFFFFFFFFu);
    ck_assert_uint_eq(COR_PRF_ALL, all & ~(COR_PRF_ENABLE_STACK_SNAPSHOT | COR_PRF_USE_PROFILE_IMAGES |
                                           COR_PRF_DISABLE_TRANSPARENCY_CHECKS_UNDER_FULL_TRUST));
    ck_assert_uint_eq(COR_PRF_MONITOR_ALL & COR_PRF_MONITOR_CLR_EXCEPTIONS,
                      COR_PRF_MONITOR_CLR_EXCEPTIONS);
    ck_assert_uint_eq(TokenFromRid(5, mdtMethodDef), 0x06000005u);
    ck_assert_uint_eq(TypeFromToken(0x02000003u), mdtTypeDef);
    ck_assert_uint_eq(RidFromToken(0x0A00002Au), 0x2A);
}
END_TEST

static Suite *corprof_suite(void)
{
    Suite *s = suite_create("corprof");
    TCase *slots = tcase_create("slots");
    tcase_add_loop_test(slots, slot_list_covers_every_slot_once, 0,
                        (int)(sizeof vtbls / sizeof vtbls[0]));
    tcase_add_test(slots, slot_list_names_are_unique_per_interface);
    tcase_add_test(slots, anchor_slots_match_the_reference_notes);
    suite_add_tcase(s, slots);
    TCase *values = tcase_create("values");
    tcase_add_test(values, iids_match_their_text_forms);
    tcase_add_test(values, struct_sizes_and_layouts);
    tcase_add_test(values, hresults_are_the_runtime_codes);
    tcase_add_test(values, event_mask_bits);
    suite_add_tcase(s, values);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(corprof_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
