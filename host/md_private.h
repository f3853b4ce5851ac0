/* md_private.h: what mdimport.c (IMetaDataImport2) and mdassembly.c
 * (IMetaDataAssemblyImport) share: the module's one metadata object, its enumerators
 * and the row and name helpers. Not installed. */
#ifndef ILG_HOST_MD_PRIVATE_H
#define ILG_HOST_MD_PRIVATE_H

#include "host_private.h"

/* An HCORENUM: a token range (first, first + 1, ...) or a list of tokens (host heap),
 * both owned by the enumerator; CloseEnum of either interface frees it. */
#define MD_ENUM_MAGIC 0x4D44454Eu
typedef struct md_enum {
    uint32_t magic;
    uint32_t first, count, pos;
    mdToken *list;               /* NULL for a range */
} md_enum;

/* A new enumerator of count tokens: a range from first, or (list_cap > 0) an empty list
 * with room for list_cap tokens that the caller fills, raising count. NULL without
 * memory. */
md_enum *ilg__md_enum_new(IHostMalloc *heap, uint32_t first, uint32_t count, uint32_t list_cap);
/* e when h is an enumerator, else NULL. */
md_enum *ilg__md_enum_check(HCORENUM h);
void ilg__md_enum_free(IHostMalloc *heap, HCORENUM h);
/* Hands out the next tokens, at most cMax: S_OK with some, S_FALSE with none left. */
HRESULT ilg__md_enum_take(md_enum *e, mdToken out[], ULONG cMax, ULONG *pcTokens);
/* The enumerator of the range [first, first + count): made on the first call (*phEnum
 * NULL), continued on the next ones. */
HRESULT ilg__md_enum_range(IHostMalloc *heap, HCORENUM *phEnum, uint32_t first, uint32_t count,
                           mdToken out[], ULONG cMax, ULONG *pcTokens);

/* One cell (0 when the row or column does not exist: the loader validated the tables,
 * so only a caller's bad row gets here) and one #Strings cell ("" likewise). */
uint32_t ilg__md_cell(const ilg_metadata *md, ilg_table table, uint32_t rid, uint32_t col);
const char *ilg__md_str(const ilg_metadata *md, ilg_table table, uint32_t rid, uint32_t col);
/* A Get*Props call for a row that is not there: CoreCLR's table getters answer
 * CLDB_E_INDEX_NOTFOUND (the Find* methods CLDB_E_RECORD_NOTFOUND). */
#define MD_E_NO_ROW CLDB_E_INDEX_NOTFOUND
/* True when token names an existing row of table. */
bool ilg__md_row_ok(const ilg_metadata *md, mdToken token, ilg_table table);
/* A name out-parameter of the metadata API: the length with the NUL in *pch, as much as
 * fits (NUL-terminated) in buf, CLDB_S_TRUNCATION when it did not fit. An empty name
 * has length 0, as CoreCLR counts it (an empty culture or parameter name). */
HRESULT ilg__md_name_out(const char *text, WCHAR *buf, ULONG cch, ULONG *pch);

/* ---- IMetaDataImport2 (mdimport.c, mdmembers.c) ------------------------------------- */

host_mdimport *ilg__md_impl(IMetaDataImport2 *iface);
/* QueryInterface of the one object, from either interface. */
HRESULT ilg__md_query(host_mdimport *imp, REFIID riid, void **ppv);

/* Every method's first statement (host_private.h, "Entry into the host"). The metadata
 * interfaces are not profiler entry points in CoreCLR: no call rule. */
#define MD_HOST(This) (ilg__md_impl(This)->module->host)
#define MD_OF(This) ((const ilg_metadata *)ilg__md_impl(This)->module->md)
#define MD_HEAP(This) (ilg__md_impl(This)->module->host->heap)
/* The module's metadata lock held for reading until the calling function returns (a
 * cleanup variable: every return path releases it). */
typedef host_mdimport *md_read_guard;
static inline md_read_guard ilg__md_read_enter(host_mdimport *imp)
{
    pthread_rwlock_rdlock(&imp->lock);
    return imp;
}
static inline void ilg__md_read_leave(md_read_guard *g)
{
    pthread_rwlock_unlock(&(*g)->lock);
}
#define MD_READ_LOCKED(imp)                                                                 \
    md_read_guard md_read_guard_ __attribute__((cleanup(ilg__md_read_leave))) =              \
        ilg__md_read_enter(imp)
#define MD_ENTRY(This, method)                                                              \
    HOST_ENTRY(MD_HOST(This), "IMetaDataImport", method, HOST_CALL_ANY);                    \
    MD_READ_LOCKED(ilg__md_impl(This))
#define MD_ENTRY_NORESULT(This, method)                                                     \
    HOST_ENTRY_NORESULT(MD_HOST(This), "IMetaDataImport", method, HOST_CALL_ANY)

/* The rows of table whose col holds value, as a list enumerator made on the first call. */
HRESULT ilg__md_enum_rows(IMetaDataImport2 *This, HCORENUM *phEnum, ilg_table table, uint32_t col,
                          uint32_t value, mdToken out[], ULONG cMax, ULONG *pcTokens);
/* The rows [*first, *first + *count) of member that row rid of owner lists in col
 * (TypeDef's MethodList and FieldList, MethodDef's ParamList; II.22). */
void ilg__md_list_of(const ilg_metadata *md, ilg_table owner, uint32_t rid, uint32_t col,
                     ilg_table member, uint32_t *first, uint32_t *count);
uint32_t ilg__md_enclosing_of(host_mdimport *imp, uint32_t td_rid);
bool ilg__md_join_name(const char *ns, const char *name, char *buf, size_t size);
/* The blob in col of token tk's row of table. */
HRESULT ilg__md_blob_of(const ilg_metadata *md, mdToken tk, ilg_table table, uint32_t col,
                        PCCOR_SIGNATURE *ppv, ULONG *pcb);

/* The rows of table whose column col holds value, in row order: *rows points into an
 * index the metadata object owns (made on the first lookup of that column, from any
 * thread; it lives as long as the module), *count of them. The metadata API looks rows
 * up by parent (custom attributes, constants, nesting, generic parameters, member
 * references, semantics, layouts): a binary search instead of a table scan per call. */
bool ilg__md_rows_where(host_mdimport *imp, ilg_table table, uint32_t col, uint32_t value,
                        const uint32_t **rows, uint32_t *count);
/* The first such row, 0 when none (a table scan when there is no memory for the index;
 * ilg__md_rows_where returns false then). */
uint32_t ilg__md_row_where(host_mdimport *imp, ilg_table table, uint32_t col, uint32_t value);
/* The owner row of member row rid: the last row of owner whose list (col) starts at or
 * before rid (the lists are non-decreasing, checked by the loader), 0 when none. */
uint32_t ilg__md_owner_of(const ilg_metadata *md, ilg_table owner, uint32_t col, uint32_t rid);

/* mdmembers.c: the vtable entries mdimport.c's md_vtbl names. */
HRESULT ilg__md_EnumMembers(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                            mdToken rMembers[], ULONG cMax, ULONG *pcTokens);
HRESULT ilg__md_EnumMembersWithName(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef cl,
                                    LPCWSTR szName, mdToken rMembers[], ULONG cMax,
                                    ULONG *pcTokens);
HRESULT ilg__md_EnumParams(IMetaDataImport2 *This, HCORENUM *phEnum, mdMethodDef mb,
                           mdParamDef rParams[], ULONG cMax, ULONG *pcTokens);
HRESULT ilg__md_EnumMemberRefs(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tkParent,
                               mdMemberRef rMemberRefs[], ULONG cMax, ULONG *pcTokens);
HRESULT ilg__md_FindMember(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                           PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdToken *pmb);
HRESULT ilg__md_FindMethod(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                           PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMethodDef *pmb);
HRESULT ilg__md_FindField(IMetaDataImport2 *This, mdTypeDef td, LPCWSTR szName,
                          PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdFieldDef *pmb);
HRESULT ilg__md_FindMemberRef(IMetaDataImport2 *This, mdTypeRef td, LPCWSTR szName,
                              PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMemberRef *pmr);
HRESULT ilg__md_GetMethodProps(IMetaDataImport2 *This, mdMethodDef mb, mdTypeDef *pClass,
                               LPWSTR szMethod, ULONG cchMethod, ULONG *pchMethod, DWORD *pdwAttr,
                               PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob, ULONG *pulCodeRVA,
                               DWORD *pdwImplFlags);
HRESULT ilg__md_GetMemberRefProps(IMetaDataImport2 *This, mdMemberRef mr, mdToken *ptk,
                                  LPWSTR szMember, ULONG cchMember, ULONG *pchMember,
                                  PCCOR_SIGNATURE *ppvSigBlob, ULONG *pbSig);
HRESULT ilg__md_GetRVA(IMetaDataImport2 *This, mdToken tk, ULONG *pulCodeRVA, DWORD *pdwImplFlags);
HRESULT ilg__md_GetNameFromToken(IMetaDataImport2 *This, mdToken tk, MDUTF8CSTR *pszUtf8NamePtr);
HRESULT ilg__md_GetParamForMethodIndex(IMetaDataImport2 *This, mdMethodDef md, ULONG ulParamSeq,
                                       mdParamDef *ppd);
HRESULT ilg__md_EnumCustomAttributes(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                     mdToken tkType, mdCustomAttribute rCustomAttributes[],
                                     ULONG cMax, ULONG *pcCustomAttributes);
HRESULT ilg__md_GetCustomAttributeProps(IMetaDataImport2 *This, mdCustomAttribute cv,
                                        mdToken *ptkObj, mdToken *ptkType, const void **ppBlob,
                                        ULONG *pcbSize);
HRESULT ilg__md_GetMemberProps(IMetaDataImport2 *This, mdToken mb, mdTypeDef *pClass,
                               LPWSTR szMember, ULONG cchMember, ULONG *pchMember, DWORD *pdwAttr,
                               PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob, ULONG *pulCodeRVA,
                               DWORD *pdwImplFlags, DWORD *pdwCPlusTypeFlag,
                               UVCP_CONSTANT *ppValue, ULONG *pcchValue);
HRESULT ilg__md_GetFieldProps(IMetaDataImport2 *This, mdFieldDef mb, mdTypeDef *pClass,
                              LPWSTR szField, ULONG cchField, ULONG *pchField, DWORD *pdwAttr,
                              PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob,
                              DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue, ULONG *pcchValue);
HRESULT ilg__md_GetParamProps(IMetaDataImport2 *This, mdParamDef tk, mdMethodDef *pmd,
                              ULONG *pulSequence, LPWSTR szName, ULONG cchName, ULONG *pchName,
                              DWORD *pdwAttr, DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue,
                              ULONG *pcchValue);
HRESULT ilg__md_GetCustomAttributeByName(IMetaDataImport2 *This, mdToken tkObj, LPCWSTR szName,
                                         const void **ppData, ULONG *pcbData);
HRESULT ilg__md_IsGlobal(IMetaDataImport2 *This, mdToken pd, int *pbGlobal);
HRESULT ilg__md_EnumGenericParams(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                  mdGenericParam rGenericParams[], ULONG cMax,
                                  ULONG *pcGenericParams);
HRESULT ilg__md_GetGenericParamProps(IMetaDataImport2 *This, mdGenericParam gp,
                                     ULONG *pulParamSeq, DWORD *pdwParamFlags, mdToken *ptOwner,
                                     DWORD *reserved, LPWSTR wzname, ULONG cchName,
                                     ULONG *pchName);
HRESULT ilg__md_GetMethodSpecProps(IMetaDataImport2 *This, mdMethodSpec mi, mdToken *tkParent,
                                   PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob);
HRESULT ilg__md_EnumGenericParamConstraints(IMetaDataImport2 *This, HCORENUM *phEnum,
                                            mdGenericParam tk,
                                            mdGenericParamConstraint rGenericParamConstraints[],
                                            ULONG cMax, ULONG *pcGenericParamConstraints);
HRESULT ilg__md_GetGenericParamConstraintProps(IMetaDataImport2 *This,
                                               mdGenericParamConstraint gpc,
                                               mdGenericParam *ptGenericParam,
                                               mdToken *ptkConstraintType);
HRESULT ilg__md_EnumMethodSpecs(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                mdMethodSpec rMethodSpecs[], ULONG cMax, ULONG *pcMethodSpecs);

/* A constant's out-parameters for tk (a Field, Param or Property): its element type
 * (ELEMENT_TYPE_VOID without one), its value and, for a string, its length in WCHARs. */
void ilg__md_constant_out(host_mdimport *imp, mdToken tk, DWORD *pdwCPlusTypeFlag,
                          UVCP_CONSTANT *ppValue, ULONG *pcchValue);

/* mdprops.c */
HRESULT ilg__md_EnumProperties(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td,
                               mdProperty rProperties[], ULONG cMax, ULONG *pcProperties);
HRESULT ilg__md_EnumEvents(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td, mdEvent rEvents[],
                           ULONG cMax, ULONG *pcEvents);
HRESULT ilg__md_GetPropertyProps(IMetaDataImport2 *This, mdProperty prop, mdTypeDef *pClass,
                                 LPWSTR szProperty, ULONG cchProperty, ULONG *pchProperty,
                                 DWORD *pdwPropFlags, PCCOR_SIGNATURE *ppvSig, ULONG *pbSig,
                                 DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppDefaultValue,
                                 ULONG *pcchDefaultValue, mdMethodDef *pmdSetter,
                                 mdMethodDef *pmdGetter, mdMethodDef rmdOtherMethod[], ULONG cMax,
                                 ULONG *pcOtherMethod);
HRESULT ilg__md_GetEventProps(IMetaDataImport2 *This, mdEvent ev, mdTypeDef *pClass, LPWSTR szEvent,
                              ULONG cchEvent, ULONG *pchEvent, DWORD *pdwEventFlags,
                              mdToken *ptkEventType, mdMethodDef *pmdAddOn,
                              mdMethodDef *pmdRemoveOn, mdMethodDef *pmdFire,
                              mdMethodDef rmdOtherMethod[], ULONG cMax, ULONG *pcOtherMethod);
HRESULT ilg__md_EnumMethodSemantics(IMetaDataImport2 *This, HCORENUM *phEnum, mdMethodDef mb,
                                    mdToken rEventProp[], ULONG cMax, ULONG *pcEventProp);
HRESULT ilg__md_GetMethodSemantics(IMetaDataImport2 *This, mdMethodDef mb, mdToken tkEventProp,
                                   DWORD *pdwSemanticsFlags);
HRESULT ilg__md_EnumMethodImpls(IMetaDataImport2 *This, HCORENUM *phEnum, mdTypeDef td,
                                mdToken rMethodBody[], mdToken rMethodDecl[], ULONG cMax,
                                ULONG *pcTokens);
HRESULT ilg__md_GetPinvokeMap(IMetaDataImport2 *This, mdToken tk, DWORD *pdwMappingFlags,
                              LPWSTR szImportName, ULONG cchImportName, ULONG *pchImportName,
                              mdModuleRef *pmrImportDLL);
HRESULT ilg__md_GetFieldMarshal(IMetaDataImport2 *This, mdToken tk, PCCOR_SIGNATURE *ppvNativeType,
                                ULONG *pcbNativeType);
HRESULT ilg__md_EnumPermissionSets(IMetaDataImport2 *This, HCORENUM *phEnum, mdToken tk,
                                   DWORD dwActions, mdPermission rPermission[], ULONG cMax,
                                   ULONG *pcTokens);
HRESULT ilg__md_GetPermissionSetProps(IMetaDataImport2 *This, mdPermission pm, DWORD *pdwAction,
                                      const void **ppvPermission, ULONG *pcbPermission);
HRESULT ilg__md_EnumUserStrings(IMetaDataImport2 *This, HCORENUM *phEnum, mdString rStrings[],
                                ULONG cmax, ULONG *pcStrings);

/* The CustomAttribute row of tkObj whose type is called name ("Ns.Name"), 0 when none,
 * UINT32_MAX without memory for the lookup. */
uint32_t ilg__md_attribute_row(host_mdimport *imp, mdToken tkObj, const char *name);

/* mdresolve.c */
HRESULT ilg__md_ResolveTypeRef(IMetaDataImport2 *This, mdTypeRef tr, REFIID riid,
                               IUnknown **ppIScope, mdTypeDef *ptd);
HRESULT ilg__md_EnumUnresolvedMethods(IMetaDataImport2 *This, HCORENUM *phEnum,
                                      mdToken rMethods[], ULONG cMax, ULONG *pcTokens);
HRESULT ilg__md_GetNativeCallConvFromSig(IMetaDataImport2 *This, const void *pvSig, ULONG cbSig,
                                         ULONG *pCallConv);
/* The TypeDef row of m called ns.name, nested in TypeDef row outer (0: a top-level one);
 * 0 when there is none. */
uint32_t ilg__md_find_typedef(host_module *m, const char *ns, const char *name, uint32_t outer);
/* The TypeDef that TypeRef tr of m names among the modules the host has loaded so far,
 * found by name as CoreCLR's ResolveTypeRef finds it: its module and row. False when no
 * loaded module defines it. */
bool ilg__host_resolve_typeref(host_module *m, mdToken tr, host_module **out, uint32_t *td_rid);

/* Drops the lookup indexes (under the write lock, after the tables changed). */
void ilg__md_drop_indexes(host_mdimport *imp);

/* mdemit.c: the emit side of the object. */
void ilg__host_mdemit_init(host_module *m);
void ilg__host_mdemit_free(host_module *m);
host_mdimport *ilg__mde_impl(IMetaDataEmit2 *iface);
#define MDE_HOST(This) (ilg__mde_impl(This)->module->host)
#define MDE_ENTRY(This, method) HOST_ENTRY(MDE_HOST(This), "IMetaDataEmit", method, HOST_CALL_ANY)
/* SetMethodProps' "leave this one as it is" (cor.h: ULONG_MAX). */
#define MDE_KEEP UINT32_MAX
/* A write: takes the module's metadata lock for writing and its writer (opened on the
 * first write), and the metadata generation before it... */
HRESULT ilg__mde_write_begin(host_mdimport *imp, ilg_mdemit **em, uint64_t *gen);
/* ...then drops the lookup indexes when the tables changed, releases the lock and
 * answers st's HRESULT (META_S_DUPLICATE for a duplicate). */
HRESULT ilg__mde_write_end(host_mdimport *imp, uint64_t gen, ilg_status st, bool duplicate);
/* A #Strings index of a UTF-16 name (NULL: ""). */
ilg_status ilg__mde_name_index(ilg_mdemit *em, LPCWSTR w, uint32_t *index);
/* "Ns.Name" as the #Strings indices of its namespace and name. */
ilg_status ilg__mde_split_name(ilg_mdemit *em, LPCWSTR w, uint32_t *ns, uint32_t *name);

/* mdemit_defs.c: types, members, parameters, generic parameters (the vtable entries). */
HRESULT ilg__mde_DefineTypeDef(IMetaDataEmit2 *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags,
                               mdToken tkExtends, mdToken rtkImplements[], mdTypeDef *ptd);
HRESULT ilg__mde_DefineNestedType(IMetaDataEmit2 *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags,
                                  mdToken tkExtends, mdToken rtkImplements[], mdTypeDef tdEncloser,
                                  mdTypeDef *ptd);
HRESULT ilg__mde_DefineMethod(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szName,
                              DWORD dwMethodFlags, PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob,
                              ULONG ulCodeRVA, DWORD dwImplFlags, mdMethodDef *pmd);
HRESULT ilg__mde_SetMethodProps(IMetaDataEmit2 *This, mdMethodDef md, DWORD dwMethodFlags,
                                ULONG ulCodeRVA, DWORD dwImplFlags);
HRESULT ilg__mde_SetMethodImplFlags(IMetaDataEmit2 *This, mdMethodDef md, DWORD dwImplFlags);
HRESULT ilg__mde_SetRVA(IMetaDataEmit2 *This, mdMethodDef md, ULONG ulRVA);
HRESULT ilg__mde_DefinePinvokeMap(IMetaDataEmit2 *This, mdToken tk, DWORD dwMappingFlags,
                                  LPCWSTR szImportName, mdModuleRef mrImportDLL);
HRESULT ilg__mde_DefineField(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szName,
                             DWORD dwFieldFlags, PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob,
                             DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                             mdFieldDef *pmd);
HRESULT ilg__mde_DefineParam(IMetaDataEmit2 *This, mdMethodDef md, ULONG ulParamSeq,
                             LPCWSTR szName, DWORD dwParamFlags, DWORD dwCPlusTypeFlag,
                             const void *pValue, ULONG cchValue, mdParamDef *ppd);
HRESULT ilg__mde_DefineGenericParam(IMetaDataEmit2 *This, mdToken tk, ULONG ulParamSeq,
                                    DWORD dwParamFlags, LPCWSTR szname, DWORD reserved,
                                    mdToken rtkConstraints[], mdGenericParam *pgp);

/* Flags RegMeta keeps to itself (corhdr.h's *ReservedMask) and the ones it sets. */
#define MDE_FD_HAS_DEFAULT 0x8000u     /* fdHasDefault */
#define MDE_FD_HAS_MARSHAL 0x1000u     /* fdHasFieldMarshal */
#define MDE_FD_HAS_RVA 0x0100u         /* fdHasFieldRVA */
#define MDE_FD_RESERVED 0x9500u        /* fdReservedMask */
#define MDE_PD_HAS_DEFAULT 0x1000u     /* pdHasDefault */
#define MDE_PD_HAS_MARSHAL 0x2000u     /* pdHasFieldMarshal */
#define MDE_PD_RESERVED 0xF000u        /* pdReservedMask */
#define MDE_PR_HAS_DEFAULT 0x1000u     /* prHasDefault */
#define MDE_PR_RESERVED 0xF400u        /* prReservedMask */
#define MDE_EV_RESERVED 0x0400u        /* evReservedMask */
#define MDE_TD_RESERVED 0x00040800u    /* tdReservedMask */
/* A Constant when (et, value) gives one; with search, parent's own is changed. */
bool ilg__mde_has_constant(DWORD et, const void *value);
ilg_status ilg__mde_constant(host_mdimport *imp, ilg_mdemit *em, mdToken parent, DWORD et,
                             const void *value, ULONG cch, bool search);

/* mdemit_props.c: the vtable entries for MethodImpls, properties, events, layouts,
 * marshalling and the Set*Props. */
HRESULT ilg__mde_DefineMethodImpl(IMetaDataEmit2 *This, mdTypeDef td, mdToken tkBody, mdToken tkDecl);
HRESULT ilg__mde_DefineProperty(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szProperty,
                                DWORD dwPropFlags, PCCOR_SIGNATURE pvSig, ULONG cbSig,
                                DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                                mdMethodDef mdSetter, mdMethodDef mdGetter,
                                mdMethodDef rmdOtherMethods[], mdProperty *pmdProp);
HRESULT ilg__mde_DefineEvent(IMetaDataEmit2 *This, mdTypeDef td, LPCWSTR szEvent, DWORD dwEventFlags,
                             mdToken tkEventType, mdMethodDef mdAddOn, mdMethodDef mdRemoveOn,
                             mdMethodDef mdFire, mdMethodDef rmdOtherMethods[], mdEvent *pmdEvent);
HRESULT ilg__mde_SetClassLayout(IMetaDataEmit2 *This, mdTypeDef td, DWORD dwPackSize,
                                COR_FIELD_OFFSET rFieldOffsets[], ULONG ulClassSize);
HRESULT ilg__mde_SetFieldMarshal(IMetaDataEmit2 *This, mdToken tk, PCCOR_SIGNATURE pvNativeType,
                                 ULONG cbNativeType);
HRESULT ilg__mde_SetFieldRVA(IMetaDataEmit2 *This, mdFieldDef fd, ULONG ulRVA);
HRESULT ilg__mde_SetTypeDefProps(IMetaDataEmit2 *This, mdTypeDef td, DWORD dwTypeDefFlags,
                                 mdToken tkExtends, mdToken rtkImplements[]);
HRESULT ilg__mde_SetFieldProps(IMetaDataEmit2 *This, mdFieldDef fd, DWORD dwFieldFlags,
                               DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue);
HRESULT ilg__mde_SetParamProps(IMetaDataEmit2 *This, mdParamDef pd, LPCWSTR szName, DWORD dwParamFlags,
                               DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue);
HRESULT ilg__mde_SetPropertyProps(IMetaDataEmit2 *This, mdProperty pr, DWORD dwPropFlags,
                                  DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue,
                                  mdMethodDef mdSetter, mdMethodDef mdGetter,
                                  mdMethodDef rmdOtherMethods[]);
HRESULT ilg__mde_SetEventProps(IMetaDataEmit2 *This, mdEvent ev, DWORD dwEventFlags,
                               mdToken tkEventType, mdMethodDef mdAddOn, mdMethodDef mdRemoveOn,
                               mdMethodDef mdFire, mdMethodDef rmdOtherMethods[]);
HRESULT ilg__mde_SetPinvokeMap(IMetaDataEmit2 *This, mdToken tk, DWORD dwMappingFlags,
                               LPCWSTR szImportName, mdModuleRef mrImportDLL);
HRESULT ilg__mde_SetCustomAttributeValue(IMetaDataEmit2 *This, mdCustomAttribute pcv,
                                         const void *pCustomAttribute, ULONG cbCustomAttribute);
HRESULT ilg__mde_SetGenericParamProps(IMetaDataEmit2 *This, mdGenericParam gp, DWORD dwParamFlags,
                                      LPCWSTR szName, DWORD reserved, mdToken rtkConstraints[]);
HRESULT ilg__mde_SetModuleProps(IMetaDataEmit2 *This, LPCWSTR szName);
HRESULT ilg__mde_SetParent(IMetaDataEmit2 *This, mdMemberRef mr, mdToken tk);
HRESULT ilg__mde_DefinePermissionSet(IMetaDataEmit2 *This, mdToken tk, DWORD dwAction,
                                     const void *pvPermission, ULONG cbPermission, mdPermission *ppm);
HRESULT ilg__mde_SetPermissionSetProps(IMetaDataEmit2 *This, mdToken tk, DWORD dwAction,
                                       const void *pvPermission, ULONG cbPermission, mdPermission *ppm);
HRESULT ilg__mde_GetDeltaSaveSize(IMetaDataEmit2 *This, CorSaveSize fSave, DWORD *pdwSaveSize);
HRESULT ilg__mde_ResetENCLog(IMetaDataEmit2 *This);

/* The host's own object behind a profiler-given interface pointer (its vtable is one
 * of the host's, plain or traced), NULL for anything else. */
host_mdimport *ilg__md_ours(IMetaDataImport *iface);
host_mdimport *ilg__mda_ours(IMetaDataAssemblyImport *iface);
host_mdimport *ilg__mde_ours(IMetaDataEmit *iface);
host_mdimport *ilg__mdae_ours(IMetaDataAssemblyEmit *iface);

/* mdemit_sig.c */
HRESULT ilg__mde_TranslateSigWithScope(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                       const void *pbHashValue, ULONG cbHashValue,
                                       IMetaDataImport *import, PCCOR_SIGNATURE pbSigBlob,
                                       ULONG cbSigBlob, IMetaDataAssemblyEmit *pAssemEmit,
                                       IMetaDataEmit *emit, PCOR_SIGNATURE pvTranslatedSig,
                                       ULONG cbTranslatedSigMax, ULONG *pcbTranslatedSig);
HRESULT ilg__mde_DefineImportType(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                  const void *pbHashValue, ULONG cbHashValue, IMetaDataImport *pImport,
                                  mdTypeDef tdImport, IMetaDataAssemblyEmit *pAssemEmit, mdTypeRef *ptr);
HRESULT ilg__mde_DefineImportMember(IMetaDataEmit2 *This, IMetaDataAssemblyImport *pAssemImport,
                                    const void *pbHashValue, ULONG cbHashValue, IMetaDataImport *pImport,
                                    mdToken mbMember, IMetaDataAssemblyEmit *pAssemEmit, mdToken tkParent,
                                    mdMemberRef *pmr);

/* mdassembly.c */
void ilg__host_mdassembly_init(host_module *m);

#endif
