/* ilgraft/cor_md.h: the metadata-reading ABI of the CLR in plain C (cor.h's
 * IMetaDataImport, IMetaDataImport2 and IMetaDataAssemblyImport, the writers IMetaDataEmit,
 * IMetaDataEmit2 and IMetaDataAssemblyEmit, the token types,
 * HCORENUM, CorOpenFlags and the CLDB_/META_ HRESULTs), laid out as the runtime's own C++ declarations lay them out on
 * Linux x64. corprof.h includes it: a profiler reaches metadata through
 * ICorProfilerInfo::GetModuleMetaData and GetTokenAndMetaDataFromFunction.
 *
 * The vtables list EVERY slot in order, so a host can fill all of them (E_NOTIMPL where it
 * has nothing to say) and a profiler written against this header can call any of them
 * in CoreCLR. corprof_slots.def numbers each slot; corprof.h turns that list into
 * compile-time offset checks.
 *
 * Conventions: names follow cor.h (profiler authors know them), not the ilg_ prefix.
 * Strings are UTF-16 (WCHAR, 16-bit). Name buffers follow the usual contract: the
 * caller passes a buffer of cch characters, the callee writes as much as fits with a
 * terminating NUL and stores the full length including the NUL in *pch; a name that did
 * not fit gives CLDB_S_TRUNCATION (a success code). Pointers that come back (signature
 * blobs, UTF-8 names, custom attribute blobs) point into the scope's own storage and
 * stay valid as long as the interface pointer that returned them. HCORENUM enumerators
 * start as NULL, are created by the first Enum* call and are freed with CloseEnum. */
#ifndef ILGRAFT_COR_MD_H
#define ILGRAFT_COR_MD_H

#include "ilgraft/unknwn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Basic Win32 spellings the metadata and profiling interfaces use ---------------- */

typedef uint8_t BYTE;
typedef uint16_t USHORT;
typedef uint32_t UINT;
typedef uint32_t ULONG32;
typedef uint8_t UINT8;
typedef uint32_t UINT32;
typedef uint64_t UINT64;
typedef WCHAR *LPWSTR;
typedef const WCHAR *LPCWSTR;
typedef const BYTE *LPCBYTE;
typedef BYTE *LPBYTE;
typedef const GUID *LPCGUID;
typedef void *HANDLE;

/* ---- Tokens (ECMA-335 II.22: table number in the top byte, row id below) ------------ */

typedef uint32_t mdToken;
typedef mdToken mdModule;
typedef mdToken mdTypeRef;
typedef mdToken mdTypeDef;
typedef mdToken mdFieldDef;
typedef mdToken mdMethodDef;
typedef mdToken mdParamDef;
typedef mdToken mdInterfaceImpl;
typedef mdToken mdMemberRef;
typedef mdToken mdCustomAttribute;
typedef mdToken mdPermission;
typedef mdToken mdSignature;
typedef mdToken mdEvent;
typedef mdToken mdProperty;
typedef mdToken mdModuleRef;
typedef mdToken mdTypeSpec;
typedef mdToken mdAssembly;
typedef mdToken mdAssemblyRef;
typedef mdToken mdFile;
typedef mdToken mdExportedType;
typedef mdToken mdManifestResource;
typedef mdToken mdGenericParam;
typedef mdToken mdMethodSpec;
typedef mdToken mdGenericParamConstraint;
typedef mdToken mdString;
typedef mdToken mdCPToken;

#define mdtModule                 0x00000000u
#define mdtTypeRef                0x01000000u
#define mdtTypeDef                0x02000000u
#define mdtFieldDef               0x04000000u
#define mdtMethodDef              0x06000000u
#define mdtParamDef               0x08000000u
#define mdtInterfaceImpl          0x09000000u
#define mdtMemberRef              0x0A000000u
#define mdtCustomAttribute        0x0C000000u
#define mdtPermission             0x0E000000u
#define mdtSignature              0x11000000u
#define mdtEvent                  0x14000000u
#define mdtProperty               0x17000000u
#define mdtMethodImpl             0x19000000u
#define mdtModuleRef              0x1A000000u
#define mdtTypeSpec               0x1B000000u
#define mdtAssembly               0x20000000u
#define mdtAssemblyRef            0x23000000u
#define mdtFile                   0x26000000u
#define mdtExportedType           0x27000000u
#define mdtManifestResource       0x28000000u
#define mdtGenericParam           0x2A000000u
#define mdtMethodSpec             0x2B000000u
#define mdtGenericParamConstraint 0x2C000000u
#define mdtString                 0x70000000u
#define mdtName                   0x71000000u
#define mdtBaseType               0x72000000u

#define mdTokenNil     ((mdToken)0)
#define mdTypeDefNil   ((mdTypeDef)mdtTypeDef)
#define mdMethodDefNil ((mdMethodDef)mdtMethodDef)

#define RidFromToken(tk)            ((uint32_t)(tk) & 0x00FFFFFFu)
#define TypeFromToken(tk)           ((uint32_t)(tk) & 0xFF000000u)
#define TokenFromRid(rid, tktype)   ((uint32_t)(rid) | (uint32_t)(tktype))
#define IsNilToken(tk)              (RidFromToken(tk) == 0)

/* ---- Signatures, enumerators, constants --------------------------------------------- */

typedef BYTE COR_SIGNATURE;
typedef COR_SIGNATURE *PCOR_SIGNATURE;
typedef const COR_SIGNATURE *PCCOR_SIGNATURE;
typedef const char *MDUTF8CSTR;      /* UTF-8 name inside the #Strings heap */
typedef const void *UVCP_CONSTANT;   /* constant value blob, possibly unaligned */
typedef void *HCORENUM;              /* opaque; NULL before the first Enum* call */

/* Element types are passed as a 32-bit value (corhdr.h's CorElementType enum). */
typedef uint32_t CorElementType;

/* A field of a class layout (Info2::GetClassLayout, IMetaDataImport::GetClassLayout). */
typedef struct COR_FIELD_OFFSET {
    mdFieldDef ridOfField;
    ULONG ulOffset;
} COR_FIELD_OFFSET;

/* dwOpenFlags of GetModuleMetaData / IMetaDataDispenser::OpenScope. */
typedef enum CorOpenFlags {
    ofRead = 0x00000000,
    ofWrite = 0x00000001,
    ofReadWriteMask = 0x00000001,
    ofCopyMemory = 0x00000002,
    ofCacheImage = 0x00000004,
    ofManifestMetadata = 0x00000008,
    ofReadOnly = 0x00000010,
    ofTakeOwnership = 0x00000020,
    ofNoTypeLib = 0x00000080,
    ofNoTransform = 0x00001000
} CorOpenFlags;

/* CorPinvokeMap's calling conventions (cor.h): what GetNativeCallConvFromSig answers. */
typedef enum CorPinvokeMap {
    pmCallConvWinapi = 0x0100,
    pmCallConvCdecl = 0x0200,
    pmCallConvStdcall = 0x0300,
    pmCallConvThiscall = 0x0400,
    pmCallConvFastcall = 0x0500,
    pmCallConvMask = 0x0700
} CorPinvokeMap;

/* ---- HRESULTs of the metadata API (corerror.h, FACILITY_URT = 0x13) ----------------- */

#define CLDB_S_TRUNCATION              ((HRESULT)0x00131106)  /* a name did not fit */
#define META_S_DUPLICATE               ((HRESULT)0x00131197)
#define CLDB_E_FILE_BADREAD            ((HRESULT)0x80131100)
#define CLDB_E_FILE_OLDVER             ((HRESULT)0x80131107)
#define CLDB_E_NO_DATA                 ((HRESULT)0x8013110B)
#define CLDB_E_FILE_CORRUPT            ((HRESULT)0x8013110E)
#define CLDB_E_INDEX_NOTFOUND          ((HRESULT)0x80131124)
#define CLDB_E_RECORD_NOTFOUND         ((HRESULT)0x80131130)
#define CLDB_E_RECORD_OUTOFORDER       ((HRESULT)0x80131135)
#define CLDB_E_TOO_BIG                 ((HRESULT)0x80131154)
#define META_E_INVALID_TOKEN_TYPE      ((HRESULT)0x8013115F)
#define META_E_BADMETADATA             ((HRESULT)0x8013118A)
#define META_E_BAD_SIGNATURE           ((HRESULT)0x80131192)
#define META_E_BAD_INPUT_PARAMETER     ((HRESULT)0x80131193)
#define META_E_CANNOTRESOLVETYPEREF    ((HRESULT)0x80131196)
#define META_E_STRINGSPACE_FULL        ((HRESULT)0x80131198)
#define META_E_NOT_IN_ENC_MODE         ((HRESULT)0x801311D4)  /* an ENC call outside ENC mode */
#define COR_E_NOTSUPPORTED             ((HRESULT)0x80131515)  /* the profiler's emitter refuses */

/* ---- IMetaDataImport (cor.h): 62 methods after IUnknown, slots 3..64 ---------------- */

#define IMETADATAIMPORT_SLOTS(T)                                                           \
    void (*CloseEnum)(T *This, HCORENUM hEnum);                                                \
    HRESULT (*CountEnum)(T *This, HCORENUM hEnum, ULONG *pulCount);                            \
    HRESULT (*ResetEnum)(T *This, HCORENUM hEnum, ULONG ulPos);                                \
    HRESULT (*EnumTypeDefs)(T *This, HCORENUM *phEnum, mdTypeDef rTypeDefs[], ULONG cMax,      \
                            ULONG *pcTypeDefs);                                                \
    HRESULT (*EnumInterfaceImpls)(T *This, HCORENUM *phEnum, mdTypeDef td,                     \
                                  mdInterfaceImpl rImpls[], ULONG cMax, ULONG *pcImpls);       \
    HRESULT (*EnumTypeRefs)(T *This, HCORENUM *phEnum, mdTypeRef rTypeRefs[], ULONG cMax,      \
                            ULONG *pcTypeRefs);                                                \
    HRESULT (*FindTypeDefByName)(T *This, LPCWSTR szTypeDef, mdToken tkEnclosingClass,         \
                                 mdTypeDef *ptd);                                              \
    HRESULT (*GetScopeProps)(T *This, LPWSTR szName, ULONG cchName, ULONG *pchName,            \
                             GUID *pmvid);                                                     \
    HRESULT (*GetModuleFromScope)(T *This, mdModule *pmd);                                     \
    HRESULT (*GetTypeDefProps)(T *This, mdTypeDef td, LPWSTR szTypeDef, ULONG cchTypeDef,      \
                               ULONG *pchTypeDef, DWORD *pdwTypeDefFlags,                      \
                               mdToken *ptkExtends);                                           \
    HRESULT (*GetInterfaceImplProps)(T *This, mdInterfaceImpl iiImpl, mdTypeDef *pClass,       \
                                     mdToken *ptkIface);                                       \
    HRESULT (*GetTypeRefProps)(T *This, mdTypeRef tr, mdToken *ptkResolutionScope,             \
                               LPWSTR szName, ULONG cchName, ULONG *pchName);                  \
    HRESULT (*ResolveTypeRef)(T *This, mdTypeRef tr, REFIID riid, IUnknown **ppIScope,         \
                              mdTypeDef *ptd);                                                 \
    HRESULT (*EnumMembers)(T *This, HCORENUM *phEnum, mdTypeDef cl, mdToken rMembers[],        \
                           ULONG cMax, ULONG *pcTokens);                                       \
    HRESULT (*EnumMembersWithName)(T *This, HCORENUM *phEnum, mdTypeDef cl, LPCWSTR szName,    \
                                   mdToken rMembers[], ULONG cMax, ULONG *pcTokens);           \
    HRESULT (*EnumMethods)(T *This, HCORENUM *phEnum, mdTypeDef cl, mdMethodDef rMethods[],    \
                           ULONG cMax, ULONG *pcTokens);                                       \
    HRESULT (*EnumMethodsWithName)(T *This, HCORENUM *phEnum, mdTypeDef cl, LPCWSTR szName,    \
                                   mdMethodDef rMethods[], ULONG cMax, ULONG *pcTokens);       \
    HRESULT (*EnumFields)(T *This, HCORENUM *phEnum, mdTypeDef cl, mdFieldDef rFields[],       \
                          ULONG cMax, ULONG *pcTokens);                                        \
    HRESULT (*EnumFieldsWithName)(T *This, HCORENUM *phEnum, mdTypeDef cl, LPCWSTR szName,     \
                                  mdFieldDef rFields[], ULONG cMax, ULONG *pcTokens);          \
    HRESULT (*EnumParams)(T *This, HCORENUM *phEnum, mdMethodDef mb, mdParamDef rParams[],     \
                          ULONG cMax, ULONG *pcTokens);                                        \
    HRESULT (*EnumMemberRefs)(T *This, HCORENUM *phEnum, mdToken tkParent,                     \
                              mdMemberRef rMemberRefs[], ULONG cMax, ULONG *pcTokens);         \
    HRESULT (*EnumMethodImpls)(T *This, HCORENUM *phEnum, mdTypeDef td, mdToken rMethodBody[], \
                               mdToken rMethodDecl[], ULONG cMax, ULONG *pcTokens);            \
    HRESULT (*EnumPermissionSets)(T *This, HCORENUM *phEnum, mdToken tk, DWORD dwActions,      \
                                  mdPermission rPermission[], ULONG cMax, ULONG *pcTokens);    \
    HRESULT (*FindMember)(T *This, mdTypeDef td, LPCWSTR szName, PCCOR_SIGNATURE pvSigBlob,    \
                          ULONG cbSigBlob, mdToken *pmb);                                      \
    HRESULT (*FindMethod)(T *This, mdTypeDef td, LPCWSTR szName, PCCOR_SIGNATURE pvSigBlob,    \
                          ULONG cbSigBlob, mdMethodDef *pmb);                                  \
    HRESULT (*FindField)(T *This, mdTypeDef td, LPCWSTR szName, PCCOR_SIGNATURE pvSigBlob,     \
                         ULONG cbSigBlob, mdFieldDef *pmb);                                    \
    HRESULT (*FindMemberRef)(T *This, mdTypeRef td, LPCWSTR szName, PCCOR_SIGNATURE pvSigBlob, \
                             ULONG cbSigBlob, mdMemberRef *pmr);                               \
    HRESULT (*GetMethodProps)(T *This, mdMethodDef mb, mdTypeDef *pClass, LPWSTR szMethod,     \
                              ULONG cchMethod, ULONG *pchMethod, DWORD *pdwAttr,               \
                              PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob,                  \
                              ULONG *pulCodeRVA, DWORD *pdwImplFlags);                         \
    HRESULT (*GetMemberRefProps)(T *This, mdMemberRef mr, mdToken *ptk, LPWSTR szMember,       \
                                 ULONG cchMember, ULONG *pchMember,                            \
                                 PCCOR_SIGNATURE *ppvSigBlob, ULONG *pbSig);                   \
    HRESULT (*EnumProperties)(T *This, HCORENUM *phEnum, mdTypeDef td,                         \
                              mdProperty rProperties[], ULONG cMax, ULONG *pcProperties);      \
    HRESULT (*EnumEvents)(T *This, HCORENUM *phEnum, mdTypeDef td, mdEvent rEvents[],          \
                          ULONG cMax, ULONG *pcEvents);                                        \
    HRESULT (*GetEventProps)(T *This, mdEvent ev, mdTypeDef *pClass, LPWSTR szEvent,           \
                             ULONG cchEvent, ULONG *pchEvent, DWORD *pdwEventFlags,            \
                             mdToken *ptkEventType, mdMethodDef *pmdAddOn,                     \
                             mdMethodDef *pmdRemoveOn, mdMethodDef *pmdFire,                   \
                             mdMethodDef rmdOtherMethod[], ULONG cMax, ULONG *pcOtherMethod);  \
    HRESULT (*EnumMethodSemantics)(T *This, HCORENUM *phEnum, mdMethodDef mb,                  \
                                   mdToken rEventProp[], ULONG cMax, ULONG *pcEventProp);      \
    HRESULT (*GetMethodSemantics)(T *This, mdMethodDef mb, mdToken tkEventProp,                \
                                  DWORD *pdwSemanticsFlags);                                   \
    HRESULT (*GetClassLayout)(T *This, mdTypeDef td, DWORD *pdwPackSize,                       \
                              COR_FIELD_OFFSET rFieldOffset[], ULONG cMax,                     \
                              ULONG *pcFieldOffset, ULONG *pulClassSize);                      \
    HRESULT (*GetFieldMarshal)(T *This, mdToken tk, PCCOR_SIGNATURE *ppvNativeType,            \
                               ULONG *pcbNativeType);                                          \
    HRESULT (*GetRVA)(T *This, mdToken tk, ULONG *pulCodeRVA, DWORD *pdwImplFlags);            \
    HRESULT (*GetPermissionSetProps)(T *This, mdPermission pm, DWORD *pdwAction,               \
                                     const void **ppvPermission, ULONG *pcbPermission);        \
    HRESULT (*GetSigFromToken)(T *This, mdSignature mdSig, PCCOR_SIGNATURE *ppvSig,            \
                               ULONG *pcbSig);                                                 \
    HRESULT (*GetModuleRefProps)(T *This, mdModuleRef mur, LPWSTR szName, ULONG cchName,       \
                                 ULONG *pchName);                                              \
    HRESULT (*EnumModuleRefs)(T *This, HCORENUM *phEnum, mdModuleRef rModuleRefs[],            \
                              ULONG cmax, ULONG *pcModuleRefs);                                \
    HRESULT (*GetTypeSpecFromToken)(T *This, mdTypeSpec typespec, PCCOR_SIGNATURE *ppvSig,     \
                                    ULONG *pcbSig);                                            \
    HRESULT (*GetNameFromToken)(T *This, mdToken tk, MDUTF8CSTR *pszUtf8NamePtr);              \
    HRESULT (*EnumUnresolvedMethods)(T *This, HCORENUM *phEnum, mdToken rMethods[],            \
                                     ULONG cMax, ULONG *pcTokens);                             \
    HRESULT (*GetUserString)(T *This, mdString stk, LPWSTR szString, ULONG cchString,          \
                             ULONG *pchString);                                                \
    HRESULT (*GetPinvokeMap)(T *This, mdToken tk, DWORD *pdwMappingFlags, LPWSTR szImportName, \
                             ULONG cchImportName, ULONG *pchImportName,                        \
                             mdModuleRef *pmrImportDLL);                                       \
    HRESULT (*EnumSignatures)(T *This, HCORENUM *phEnum, mdSignature rSignatures[],            \
                              ULONG cmax, ULONG *pcSignatures);                                \
    HRESULT (*EnumTypeSpecs)(T *This, HCORENUM *phEnum, mdTypeSpec rTypeSpecs[], ULONG cmax,   \
                             ULONG *pcTypeSpecs);                                              \
    HRESULT (*EnumUserStrings)(T *This, HCORENUM *phEnum, mdString rStrings[], ULONG cmax,     \
                               ULONG *pcStrings);                                              \
    HRESULT (*GetParamForMethodIndex)(T *This, mdMethodDef md, ULONG ulParamSeq,               \
                                      mdParamDef *ppd);                                        \
    HRESULT (*EnumCustomAttributes)(T *This, HCORENUM *phEnum, mdToken tk, mdToken tkType,     \
                                    mdCustomAttribute rCustomAttributes[], ULONG cMax,         \
                                    ULONG *pcCustomAttributes);                                \
    HRESULT (*GetCustomAttributeProps)(T *This, mdCustomAttribute cv, mdToken *ptkObj,         \
                                       mdToken *ptkType, const void **ppBlob, ULONG *pcbSize); \
    HRESULT (*FindTypeRef)(T *This, mdToken tkResolutionScope, LPCWSTR szName,                 \
                           mdTypeRef *ptr);                                                    \
    HRESULT (*GetMemberProps)(T *This, mdToken mb, mdTypeDef *pClass, LPWSTR szMember,         \
                              ULONG cchMember, ULONG *pchMember, DWORD *pdwAttr,               \
                              PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob,                  \
                              ULONG *pulCodeRVA, DWORD *pdwImplFlags,                          \
                              DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue,                 \
                              ULONG *pcchValue);                                               \
    HRESULT (*GetFieldProps)(T *This, mdFieldDef mb, mdTypeDef *pClass, LPWSTR szField,        \
                             ULONG cchField, ULONG *pchField, DWORD *pdwAttr,                  \
                             PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob,                   \
                             DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue,                  \
                             ULONG *pcchValue);                                                \
    HRESULT (*GetPropertyProps)(T *This, mdProperty prop, mdTypeDef *pClass,                   \
                                LPWSTR szProperty, ULONG cchProperty, ULONG *pchProperty,      \
                                DWORD *pdwPropFlags, PCCOR_SIGNATURE *ppvSig, ULONG *pbSig,    \
                                DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppDefaultValue,        \
                                ULONG *pcchDefaultValue, mdMethodDef *pmdSetter,               \
                                mdMethodDef *pmdGetter, mdMethodDef rmdOtherMethod[],          \
                                ULONG cMax, ULONG *pcOtherMethod);                             \
    HRESULT (*GetParamProps)(T *This, mdParamDef tk, mdMethodDef *pmd, ULONG *pulSequence,     \
                             LPWSTR szName, ULONG cchName, ULONG *pchName, DWORD *pdwAttr,     \
                             DWORD *pdwCPlusTypeFlag, UVCP_CONSTANT *ppValue,                  \
                             ULONG *pcchValue);                                                \
    HRESULT (*GetCustomAttributeByName)(T *This, mdToken tkObj, LPCWSTR szName,                \
                                        const void **ppData, ULONG *pcbData);                  \
    BOOL (*IsValidToken)(T *This, mdToken tk);                                                 \
    HRESULT (*GetNestedClassProps)(T *This, mdTypeDef tdNestedClass,                           \
                                   mdTypeDef *ptdEnclosingClass);                              \
    HRESULT (*GetNativeCallConvFromSig)(T *This, const void *pvSig, ULONG cbSig,               \
                                        ULONG *pCallConv);                                     \
    HRESULT (*IsGlobal)(T *This, mdToken pd, int *pbGlobal);

/* IMetaDataImport2 appends slots 65..72. */
#define IMETADATAIMPORT2_SLOTS(T)                                                          \
    HRESULT (*EnumGenericParams)(T *This, HCORENUM *phEnum, mdToken tk,                        \
                                 mdGenericParam rGenericParams[], ULONG cMax,                  \
                                 ULONG *pcGenericParams);                                      \
    HRESULT (*GetGenericParamProps)(T *This, mdGenericParam gp, ULONG *pulParamSeq,            \
                                    DWORD *pdwParamFlags, mdToken *ptOwner, DWORD *reserved,   \
                                    LPWSTR wzname, ULONG cchName, ULONG *pchName);             \
    HRESULT (*GetMethodSpecProps)(T *This, mdMethodSpec mi, mdToken *tkParent,                 \
                                  PCCOR_SIGNATURE *ppvSigBlob, ULONG *pcbSigBlob);             \
    HRESULT (*EnumGenericParamConstraints)(T *This, HCORENUM *phEnum, mdGenericParam tk,       \
                                           mdGenericParamConstraint rGenericParamConstraints[],\
                                           ULONG cMax, ULONG *pcGenericParamConstraints);      \
    HRESULT (*GetGenericParamConstraintProps)(T *This, mdGenericParamConstraint gpc,           \
                                              mdGenericParam *ptGenericParam,                  \
                                              mdToken *ptkConstraintType);                     \
    HRESULT (*GetPEKind)(T *This, DWORD *pdwPEKind, DWORD *pdwMachine);                        \
    HRESULT (*GetVersionString)(T *This, LPWSTR pwzBuf, DWORD ccBufSize, DWORD *pccBufSize);   \
    HRESULT (*EnumMethodSpecs)(T *This, HCORENUM *phEnum, mdToken tk,                          \
                               mdMethodSpec rMethodSpecs[], ULONG cMax, ULONG *pcMethodSpecs);

typedef struct IMetaDataImport IMetaDataImport;
typedef struct IMetaDataImportVtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataImport)
    IMETADATAIMPORT_SLOTS(IMetaDataImport)
} IMetaDataImportVtbl;
struct IMetaDataImport {
    const IMetaDataImportVtbl *lpVtbl;
};

typedef struct IMetaDataImport2 IMetaDataImport2;
typedef struct IMetaDataImport2Vtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataImport2)
    IMETADATAIMPORT_SLOTS(IMetaDataImport2)
    IMETADATAIMPORT2_SLOTS(IMetaDataImport2)
} IMetaDataImport2Vtbl;
struct IMetaDataImport2 {
    const IMetaDataImport2Vtbl *lpVtbl;
};

/* ---- IMetaDataAssemblyImport (cor.h): the manifest, 14 methods after IUnknown ------- */

/* An operating system an assembly targets (unused since .NET 2.0; always empty). */
typedef struct OSINFO {
    DWORD dwOSPlatformId;
    DWORD dwOSMajorVersion;
    DWORD dwOSMinorVersion;
} OSINFO;

/* Version and culture of an Assembly or AssemblyRef row. The caller owns the arrays:
 * szLocale/cbLocale is a name buffer (cbLocale counts WCHARs in and out, with the NUL);
 * rProcessor/ulProcessor and rOS/ulOS come back with a count of 0. */
typedef struct ASSEMBLYMETADATA {
    USHORT usMajorVersion;
    USHORT usMinorVersion;
    USHORT usBuildNumber;
    USHORT usRevisionNumber;
    LPWSTR szLocale;
    ULONG cbLocale;
    DWORD *rProcessor;
    ULONG ulProcessor;
    OSINFO *rOS;
    ULONG ulOS;
} ASSEMBLYMETADATA;

#define IMETADATAASSEMBLYIMPORT_SLOTS(T)                                                   \
    HRESULT (*GetAssemblyProps)(T *This, mdAssembly mda, const void **ppbPublicKey,            \
                                ULONG *pcbPublicKey, ULONG *pulHashAlgId, LPWSTR szName,       \
                                ULONG cchName, ULONG *pchName, ASSEMBLYMETADATA *pMetaData,    \
                                DWORD *pdwAssemblyFlags);                                      \
    HRESULT (*GetAssemblyRefProps)(T *This, mdAssemblyRef mdar,                                \
                                   const void **ppbPublicKeyOrToken,                           \
                                   ULONG *pcbPublicKeyOrToken, LPWSTR szName, ULONG cchName,   \
                                   ULONG *pchName, ASSEMBLYMETADATA *pMetaData,                \
                                   const void **ppbHashValue, ULONG *pcbHashValue,             \
                                   DWORD *pdwAssemblyRefFlags);                                \
    HRESULT (*GetFileProps)(T *This, mdFile mdf, LPWSTR szName, ULONG cchName, ULONG *pchName, \
                            const void **ppbHashValue, ULONG *pcbHashValue,                    \
                            DWORD *pdwFileFlags);                                              \
    HRESULT (*GetExportedTypeProps)(T *This, mdExportedType mdct, LPWSTR szName,               \
                                    ULONG cchName, ULONG *pchName,                             \
                                    mdToken *ptkImplementation, mdTypeDef *ptkTypeDef,         \
                                    DWORD *pdwExportedTypeFlags);                              \
    HRESULT (*GetManifestResourceProps)(T *This, mdManifestResource mdmr, LPWSTR szName,       \
                                        ULONG cchName, ULONG *pchName,                         \
                                        mdToken *ptkImplementation, DWORD *pdwOffset,          \
                                        DWORD *pdwResourceFlags);                              \
    HRESULT (*EnumAssemblyRefs)(T *This, HCORENUM *phEnum, mdAssemblyRef rAssemblyRefs[],      \
                                ULONG cMax, ULONG *pcTokens);                                  \
    HRESULT (*EnumFiles)(T *This, HCORENUM *phEnum, mdFile rFiles[], ULONG cMax,               \
                         ULONG *pcTokens);                                                     \
    HRESULT (*EnumExportedTypes)(T *This, HCORENUM *phEnum, mdExportedType rExportedTypes[],   \
                                 ULONG cMax, ULONG *pcTokens);                                 \
    HRESULT (*EnumManifestResources)(T *This, HCORENUM *phEnum,                                \
                                     mdManifestResource rManifestResources[], ULONG cMax,      \
                                     ULONG *pcTokens);                                         \
    HRESULT (*GetAssemblyFromScope)(T *This, mdAssembly *ptkAssembly);                         \
    HRESULT (*FindExportedTypeByName)(T *This, LPCWSTR szName, mdToken tkEnclosingType,        \
                                      mdExportedType *ptkExportedType);                        \
    HRESULT (*FindManifestResourceByName)(T *This, LPCWSTR szName,                             \
                                          mdManifestResource *ptkManifestResource);            \
    void (*CloseEnum)(T *This, HCORENUM hEnum);                                                \
    HRESULT (*FindAssembliesByName)(T *This, LPCWSTR szAppBase, LPCWSTR szPrivateBin,          \
                                    LPCWSTR szAssemblyName, IUnknown *ppIUnk[], ULONG cMax,    \
                                    ULONG *pcAssemblies);

typedef struct IMetaDataAssemblyImport IMetaDataAssemblyImport;
typedef struct IMetaDataAssemblyImportVtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataAssemblyImport)
    IMETADATAASSEMBLYIMPORT_SLOTS(IMetaDataAssemblyImport)
} IMetaDataAssemblyImportVtbl;
struct IMetaDataAssemblyImport {
    const IMetaDataAssemblyImportVtbl *lpVtbl;
};
/* corprof.h expands corprof_slots.def into offset checks; this names the vtable its
 * IMetaDataAssemblyImport entries are checked against (expanded there, not here). */
#define CORPROF_SLOT_IMetaDataAssemblyImport_1(m, s)                                       \
    CORPROF_SLOT_AT(IMetaDataAssemblyImportVtbl, m, s)

/* ---- IMetaDataEmit, IMetaDataEmit2, IMetaDataAssemblyEmit (cor.h): the writers ------- */

/* What the emit interfaces name without using here: a COM stream (Save*ToStream) and a
 * token-remap sink (Merge), opaque to ilgraft. */
typedef struct IStream IStream;
typedef struct IMapToken IMapToken;
typedef struct IMetaDataEmit IMetaDataEmit;
typedef struct IMetaDataEmit2 IMetaDataEmit2;
typedef struct IMetaDataAssemblyEmit IMetaDataAssemblyEmit;

/* GetSaveSize's accuracy request (cor.h CorSaveSize). */
typedef enum CorSaveSize {
    cssAccurate = 0x0000,
    cssQuick = 0x0001,
    cssDiscardTransientCAs = 0x0002
} CorSaveSize;

/* One security attribute of DefineSecurityAttributeSet (cor.h COR_SECATTR). */
typedef struct COR_SECATTR {
    mdMemberRef tkCtor;
    const void *pCustomAttribute;
    ULONG cbCustomAttribute;
} COR_SECATTR;

/* IMetaDataEmit: 49 methods after IUnknown, slots 3..51. A duplicate definition where
 * RegMeta de-duplicates answers the existing token with META_S_DUPLICATE. */
#define IMETADATAEMIT_SLOTS(T)                                                                     \
    HRESULT (*SetModuleProps)(T *This, LPCWSTR szName);                                            \
    HRESULT (*Save)(T *This, LPCWSTR szFile, DWORD dwSaveFlags);                                   \
    HRESULT (*SaveToStream)(T *This, IStream *pIStream, DWORD dwSaveFlags);                        \
    HRESULT (*GetSaveSize)(T *This, CorSaveSize fSave, DWORD *pdwSaveSize);                        \
    HRESULT (*DefineTypeDef)(T *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags, mdToken tkExtends,  \
                             mdToken rtkImplements[], mdTypeDef *ptd);                             \
    HRESULT (*DefineNestedType)(T *This, LPCWSTR szTypeDef, DWORD dwTypeDefFlags,                  \
                                mdToken tkExtends, mdToken rtkImplements[], mdTypeDef tdEncloser,  \
                                mdTypeDef *ptd);                                                   \
    HRESULT (*SetHandler)(T *This, IUnknown *pUnk);                                                \
    HRESULT (*DefineMethod)(T *This, mdTypeDef td, LPCWSTR szName, DWORD dwMethodFlags,            \
                            PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, ULONG ulCodeRVA,           \
                            DWORD dwImplFlags, mdMethodDef *pmd);                                  \
    HRESULT (*DefineMethodImpl)(T *This, mdTypeDef td, mdToken tkBody, mdToken tkDecl);            \
    HRESULT (*DefineTypeRefByName)(T *This, mdToken tkResolutionScope, LPCWSTR szName,             \
                                   mdTypeRef *ptr);                                                \
    HRESULT (*DefineImportType)(T *This, IMetaDataAssemblyImport *pAssemImport,                    \
                                const void *pbHashValue, ULONG cbHashValue,                        \
                                IMetaDataImport *pImport, mdTypeDef tdImport,                      \
                                IMetaDataAssemblyEmit *pAssemEmit, mdTypeRef *ptr);                \
    HRESULT (*DefineMemberRef)(T *This, mdToken tkImport, LPCWSTR szName,                          \
                               PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, mdMemberRef *pmr);      \
    HRESULT (*DefineImportMember)(T *This, IMetaDataAssemblyImport *pAssemImport,                  \
                                  const void *pbHashValue, ULONG cbHashValue,                      \
                                  IMetaDataImport *pImport, mdToken mbMember,                      \
                                  IMetaDataAssemblyEmit *pAssemEmit, mdToken tkParent,             \
                                  mdMemberRef *pmr);                                               \
    HRESULT (*DefineEvent)(T *This, mdTypeDef td, LPCWSTR szEvent, DWORD dwEventFlags,             \
                           mdToken tkEventType, mdMethodDef mdAddOn, mdMethodDef mdRemoveOn,       \
                           mdMethodDef mdFire, mdMethodDef rmdOtherMethods[], mdEvent *pmdEvent);  \
    HRESULT (*SetClassLayout)(T *This, mdTypeDef td, DWORD dwPackSize,                             \
                              COR_FIELD_OFFSET rFieldOffsets[], ULONG ulClassSize);                \
    HRESULT (*DeleteClassLayout)(T *This, mdTypeDef td);                                           \
    HRESULT (*SetFieldMarshal)(T *This, mdToken tk, PCCOR_SIGNATURE pvNativeType,                  \
                               ULONG cbNativeType);                                                \
    HRESULT (*DeleteFieldMarshal)(T *This, mdToken tk);                                            \
    HRESULT (*DefinePermissionSet)(T *This, mdToken tk, DWORD dwAction, const void *pvPermission,  \
                                   ULONG cbPermission, mdPermission *ppm);                         \
    HRESULT (*SetRVA)(T *This, mdMethodDef md, ULONG ulRVA);                                       \
    HRESULT (*GetTokenFromSig)(T *This, PCCOR_SIGNATURE pvSig, ULONG cbSig, mdSignature *pmsig);   \
    HRESULT (*DefineModuleRef)(T *This, LPCWSTR szName, mdModuleRef *pmur);                        \
    HRESULT (*SetParent)(T *This, mdMemberRef mr, mdToken tk);                                     \
    HRESULT (*GetTokenFromTypeSpec)(T *This, PCCOR_SIGNATURE pvSig, ULONG cbSig,                   \
                                    mdTypeSpec *ptypespec);                                        \
    HRESULT (*SaveToMemory)(T *This, void *pbData, ULONG cbData);                                  \
    HRESULT (*DefineUserString)(T *This, LPCWSTR szString, ULONG cchString, mdString *pstk);       \
    HRESULT (*DeleteToken)(T *This, mdToken tkObj);                                                \
    HRESULT (*SetMethodProps)(T *This, mdMethodDef md, DWORD dwMethodFlags, ULONG ulCodeRVA,       \
                              DWORD dwImplFlags);                                                  \
    HRESULT (*SetTypeDefProps)(T *This, mdTypeDef td, DWORD dwTypeDefFlags, mdToken tkExtends,     \
                               mdToken rtkImplements[]);                                           \
    HRESULT (*SetEventProps)(T *This, mdEvent ev, DWORD dwEventFlags, mdToken tkEventType,         \
                             mdMethodDef mdAddOn, mdMethodDef mdRemoveOn, mdMethodDef mdFire,      \
                             mdMethodDef rmdOtherMethods[]);                                       \
    HRESULT (*SetPermissionSetProps)(T *This, mdToken tk, DWORD dwAction,                          \
                                     const void *pvPermission, ULONG cbPermission,                 \
                                     mdPermission *ppm);                                           \
    HRESULT (*DefinePinvokeMap)(T *This, mdToken tk, DWORD dwMappingFlags, LPCWSTR szImportName,   \
                                mdModuleRef mrImportDLL);                                          \
    HRESULT (*SetPinvokeMap)(T *This, mdToken tk, DWORD dwMappingFlags, LPCWSTR szImportName,      \
                             mdModuleRef mrImportDLL);                                             \
    HRESULT (*DeletePinvokeMap)(T *This, mdToken tk);                                              \
    HRESULT (*DefineCustomAttribute)(T *This, mdToken tkOwner, mdToken tkCtor,                     \
                                     const void *pCustomAttribute, ULONG cbCustomAttribute,        \
                                     mdCustomAttribute *pcv);                                      \
    HRESULT (*SetCustomAttributeValue)(T *This, mdCustomAttribute pcv,                             \
                                       const void *pCustomAttribute, ULONG cbCustomAttribute);     \
    HRESULT (*DefineField)(T *This, mdTypeDef td, LPCWSTR szName, DWORD dwFieldFlags,              \
                           PCCOR_SIGNATURE pvSigBlob, ULONG cbSigBlob, DWORD dwCPlusTypeFlag,      \
                           const void *pValue, ULONG cchValue, mdFieldDef *pmd);                   \
    HRESULT (*DefineProperty)(T *This, mdTypeDef td, LPCWSTR szProperty, DWORD dwPropFlags,        \
                              PCCOR_SIGNATURE pvSig, ULONG cbSig, DWORD dwCPlusTypeFlag,           \
                              const void *pValue, ULONG cchValue, mdMethodDef mdSetter,            \
                              mdMethodDef mdGetter, mdMethodDef rmdOtherMethods[],                 \
                              mdProperty *pmdProp);                                                \
    HRESULT (*DefineParam)(T *This, mdMethodDef md, ULONG ulParamSeq, LPCWSTR szName,              \
                           DWORD dwParamFlags, DWORD dwCPlusTypeFlag, const void *pValue,          \
                           ULONG cchValue, mdParamDef *ppd);                                       \
    HRESULT (*SetFieldProps)(T *This, mdFieldDef fd, DWORD dwFieldFlags, DWORD dwCPlusTypeFlag,    \
                             const void *pValue, ULONG cchValue);                                  \
    HRESULT (*SetPropertyProps)(T *This, mdProperty pr, DWORD dwPropFlags, DWORD dwCPlusTypeFlag,  \
                                const void *pValue, ULONG cchValue, mdMethodDef mdSetter,          \
                                mdMethodDef mdGetter, mdMethodDef rmdOtherMethods[]);              \
    HRESULT (*SetParamProps)(T *This, mdParamDef pd, LPCWSTR szName, DWORD dwParamFlags,           \
                             DWORD dwCPlusTypeFlag, const void *pValue, ULONG cchValue);           \
    HRESULT (*DefineSecurityAttributeSet)(T *This, mdToken tkObj, COR_SECATTR rSecAttrs[],         \
        ULONG cSecAttrs, ULONG *pulErrorAttr);                                                     \
    HRESULT (*ApplyEditAndContinue)(T *This, IUnknown *pImport);                                   \
    HRESULT (*TranslateSigWithScope)(T *This, IMetaDataAssemblyImport *pAssemImport,               \
                                     const void *pbHashValue, ULONG cbHashValue,                   \
                                     IMetaDataImport *import, PCCOR_SIGNATURE pbSigBlob,           \
                                     ULONG cbSigBlob, IMetaDataAssemblyEmit *pAssemEmit,           \
                                     IMetaDataEmit *emit, PCOR_SIGNATURE pvTranslatedSig,          \
                                     ULONG cbTranslatedSigMax, ULONG *pcbTranslatedSig);           \
    HRESULT (*SetMethodImplFlags)(T *This, mdMethodDef md, DWORD dwImplFlags);                     \
    HRESULT (*SetFieldRVA)(T *This, mdFieldDef fd, ULONG ulRVA);                                   \
    HRESULT (*Merge)(T *This, IMetaDataImport *pImport, IMapToken *pHostMapToken,                  \
                     IUnknown *pHandler);                                                          \
    HRESULT (*MergeEnd)(T *This);
/* IMetaDataEmit2 appends slots 52..59. */
#define IMETADATAEMIT2_SLOTS(T)                                                                    \
    HRESULT (*DefineMethodSpec)(T *This, mdToken tkParent, PCCOR_SIGNATURE pvSigBlob,              \
                                ULONG cbSigBlob, mdMethodSpec *pmi);                               \
    HRESULT (*GetDeltaSaveSize)(T *This, CorSaveSize fSave, DWORD *pdwSaveSize);                   \
    HRESULT (*SaveDelta)(T *This, LPCWSTR szFile, DWORD dwSaveFlags);                              \
    HRESULT (*SaveDeltaToStream)(T *This, IStream *pIStream, DWORD dwSaveFlags);                   \
    HRESULT (*SaveDeltaToMemory)(T *This, void *pbData, ULONG cbData);                             \
    HRESULT (*DefineGenericParam)(T *This, mdToken tk, ULONG ulParamSeq, DWORD dwParamFlags,       \
                                  LPCWSTR szname, DWORD reserved, mdToken rtkConstraints[],        \
                                  mdGenericParam *pgp);                                            \
    HRESULT (*SetGenericParamProps)(T *This, mdGenericParam gp, DWORD dwParamFlags,                \
                                    LPCWSTR szName, DWORD reserved, mdToken rtkConstraints[]);     \
    HRESULT (*ResetENCLog)(T *This);
typedef struct IMetaDataEmitVtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataEmit)
    IMETADATAEMIT_SLOTS(IMetaDataEmit)
} IMetaDataEmitVtbl;
struct IMetaDataEmit {
    const IMetaDataEmitVtbl *lpVtbl;
};

typedef struct IMetaDataEmit2Vtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataEmit2)
    IMETADATAEMIT_SLOTS(IMetaDataEmit2)
    IMETADATAEMIT2_SLOTS(IMetaDataEmit2)
} IMetaDataEmit2Vtbl;
struct IMetaDataEmit2 {
    const IMetaDataEmit2Vtbl *lpVtbl;
};

/* IMetaDataAssemblyEmit: the manifest writer, 10 methods after IUnknown. */
#define IMETADATAASSEMBLYEMIT_SLOTS(T)                                                             \
    HRESULT (*DefineAssembly)(T *This, const void *pbPublicKey, ULONG cbPublicKey,                 \
                              ULONG ulHashAlgId, LPCWSTR szName,                                   \
                              const ASSEMBLYMETADATA *pMetaData, DWORD dwAssemblyFlags,            \
                              mdAssembly *pma);                                                    \
    HRESULT (*DefineAssemblyRef)(T *This, const void *pbPublicKeyOrToken,                          \
                                 ULONG cbPublicKeyOrToken, LPCWSTR szName,                         \
                                 const ASSEMBLYMETADATA *pMetaData, const void *pbHashValue,       \
                                 ULONG cbHashValue, DWORD dwAssemblyRefFlags,                      \
                                 mdAssemblyRef *pmdar);                                            \
    HRESULT (*DefineFile)(T *This, LPCWSTR szName, const void *pbHashValue, ULONG cbHashValue,     \
                          DWORD dwFileFlags, mdFile *pmdf);                                        \
    HRESULT (*DefineExportedType)(T *This, LPCWSTR szName, mdToken tkImplementation,               \
                                  mdTypeDef tkTypeDef, DWORD dwExportedTypeFlags,                  \
                                  mdExportedType *pmdct);                                          \
    HRESULT (*DefineManifestResource)(T *This, LPCWSTR szName, mdToken tkImplementation,           \
                                      DWORD dwOffset, DWORD dwResourceFlags,                       \
                                      mdManifestResource *pmdmr);                                  \
    HRESULT (*SetAssemblyProps)(T *This, mdAssembly pma, const void *pbPublicKey,                  \
                                ULONG cbPublicKey, ULONG ulHashAlgId, LPCWSTR szName,              \
                                const ASSEMBLYMETADATA *pMetaData, DWORD dwAssemblyFlags);         \
    HRESULT (*SetAssemblyRefProps)(T *This, mdAssemblyRef ar, const void *pbPublicKeyOrToken,      \
                                   ULONG cbPublicKeyOrToken, LPCWSTR szName,                       \
                                   const ASSEMBLYMETADATA *pMetaData, const void *pbHashValue,     \
                                   ULONG cbHashValue, DWORD dwAssemblyRefFlags);                   \
    HRESULT (*SetFileProps)(T *This, mdFile file, const void *pbHashValue, ULONG cbHashValue,      \
                            DWORD dwFileFlags);                                                    \
    HRESULT (*SetExportedTypeProps)(T *This, mdExportedType ct, mdToken tkImplementation,          \
                                    mdTypeDef tkTypeDef, DWORD dwExportedTypeFlags);               \
    HRESULT (*SetManifestResourceProps)(T *This, mdManifestResource mr, mdToken tkImplementation,  \
                                        DWORD dwOffset, DWORD dwResourceFlags);
typedef struct IMetaDataAssemblyEmitVtbl {
    COM_IUNKNOWN_SLOTS(IMetaDataAssemblyEmit)
    IMETADATAASSEMBLYEMIT_SLOTS(IMetaDataAssemblyEmit)
} IMetaDataAssemblyEmitVtbl;
struct IMetaDataAssemblyEmit {
    const IMetaDataAssemblyEmitVtbl *lpVtbl;
};
/* The vtables corprof.h checks corprof_slots.def's emit entries against. */
#define CORPROF_SLOT_IMetaDataEmit_1(m, s)                                                 \
    CORPROF_SLOT_AT(IMetaDataEmitVtbl, m, s) CORPROF_SLOT_AT(IMetaDataEmit2Vtbl, m, s)
#define CORPROF_SLOT_IMetaDataEmit_2(m, s) CORPROF_SLOT_AT(IMetaDataEmit2Vtbl, m, s)
#define CORPROF_SLOT_IMetaDataAssemblyEmit_1(m, s)                                         \
    CORPROF_SLOT_AT(IMetaDataAssemblyEmitVtbl, m, s)

/* 7DAC8207-D3AE-4C75-9B67-92801A497D44 */
static const IID IID_IMetaDataImport =
    COM_GUID_INIT(0x7DAC8207, 0xD3AE, 0x4C75, 0x9B, 0x67, 0x92, 0x80, 0x1A, 0x49, 0x7D, 0x44);
/* FCE5EFA0-8BBA-4F8E-A036-8F2022B08466 */
static const IID IID_IMetaDataImport2 =
    COM_GUID_INIT(0xFCE5EFA0, 0x8BBA, 0x4F8E, 0xA0, 0x36, 0x8F, 0x20, 0x22, 0xB0, 0x84, 0x66);
/* BA3FEE4C-ECB9-4E41-83B7-183FA41CD859 */
static const IID IID_IMetaDataEmit =
    COM_GUID_INIT(0xBA3FEE4C, 0xECB9, 0x4E41, 0x83, 0xB7, 0x18, 0x3F, 0xA4, 0x1C, 0xD8, 0x59);
/* F5DD9950-F693-42E6-830E-7B833E8146A9 */
static const IID IID_IMetaDataEmit2 =
    COM_GUID_INIT(0xF5DD9950, 0xF693, 0x42E6, 0x83, 0x0E, 0x7B, 0x83, 0x3E, 0x81, 0x46, 0xA9);
/* 211EF15B-5317-4438-B196-DEC87B887693 */
static const IID IID_IMetaDataAssemblyEmit =
    COM_GUID_INIT(0x211EF15B, 0x5317, 0x4438, 0xB1, 0x96, 0xDE, 0xC8, 0x7B, 0x88, 0x76, 0x93);
/* IMetaDataAssemblyImport: EE62470B-E94B-424E-9B7C-2F00C9249F93 */
static const IID IID_IMetaDataAssemblyImport =
    COM_GUID_INIT(0xEE62470B, 0xE94B, 0x424E, 0x9B, 0x7C, 0x2F, 0x00, 0xC9, 0x24, 0x9F, 0x93);

#ifdef __cplusplus
}
#endif
#endif
