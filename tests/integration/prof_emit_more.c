/* prof_emit_more.c: the rest of IMetaDataEmit for prof_emit: properties, events,
 * parameters, fields, layouts, MethodImpls, P/Invokes, custom attributes, the scope. */
#include "prof_emit.h"

/* The rest of IMetaDataEmit (issue 16): on a new class Emitted.Extra (never loaded, so
 * the program runs as before) that implements IDisposable through SetTypeDefProps and
 * a MethodImpl, a property with a getter and then a constant (SetPropertyProps), an
 * event with add and remove (SetEventProps), a named parameter (SetParamProps), a
 * literal field given its constant (SetFieldProps), a marshalled field
 * (SetFieldMarshal), a static field over existing bytes (SetFieldRVA), a P/Invoke
 * changed (SetPinvokeMap), a custom attribute's value changed; an explicit-layout
 * value type Emitted.Blob (SetClassLayout); Box`1's parameter renamed
 * (SetGenericParamProps); each read back through IMetaDataImport, and refusals RegMeta
 * answers without writing anything ("emit: more" lines, compared with CoreCLR's). */
#define MI_PRIVATE_IMPL 0x01E1u  /* private final virtual hidebysig newslot */
#define MI_PUBLIC_INST 0x0886u   /* public hidebysig specialname */
#define PINVOKE_FLAGS 0x2096u    /* public static hidebysig pinvokeimpl */
#define ET_VALUE_I4 0x08u

static mdMethodDef more_method(emit_ctx *c, mdTypeDef td, const char *name, DWORD flags,
                               const uint8_t *sig, ULONG len, bool body)
{
    WCHAR w[NAME_MAX_CHARS];
    mdMethodDef md = 0;
    static const uint8_t just_ret[] = { OP_RET };
    to_wide(name, w, NAME_MAX_CHARS);
    HRESULT hr = c->emit->lpVtbl->DefineMethod(c->emit, td, w, flags, sig, len, 0, 0, &md);
    char label[96];
    snprintf(label, sizeof label, "more method %s", name);
    emit_step(label, hr, md);
    if (body)
        emit_set_body(c, md, just_ret, sizeof just_ret);
    return md;
}

static mdTypeRef runtime_ref(emit_ctx *c, const char *name)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeRef tr = 0;
    to_wide(name, w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineTypeRefByName(c->emit, emit_assembly_ref(c, "System.Runtime"), w, &tr);
    return tr;
}

/* Extra implements IDisposable: SetTypeDefProps, DefineMethodImpl, EnumMethodImpls. */
static void more_interface(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t inst_void[] = { 0x20, 0, ET_VOID };
    mdTypeRef disp = runtime_ref(c, "System.IDisposable");
    WCHAR w[NAME_MAX_CHARS];
    mdMemberRef decl = 0;
    to_wide("Dispose", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, disp, w, inst_void, sizeof inst_void, &decl);
    mdToken ifaces[2] = { disp, mdTokenNil };
    STEP("more settypedefprops", c->emit->lpVtbl->SetTypeDefProps(c->emit, extra, KEEP, KEEP,
                                                                  ifaces), extra);
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        /* A second list: RegMeta unlinks the first one's rows; the host cannot (E_NOTIMPL). */
        HRESULT no = c->emit->lpVtbl->SetTypeDefProps(c->emit, extra, KEEP, KEEP, ifaces);
        prof_check(no == E_NOTIMPL, "SetTypeDefProps, a second interface list: 0x%08x",
                   (unsigned)no);
    }
    mdMethodDef body = more_method(c, extra, "System.IDisposable.Dispose", MI_PRIVATE_IMPL,
                                   inst_void, sizeof inst_void, true);
    STEP("more methodimpl", c->emit->lpVtbl->DefineMethodImpl(c->emit, extra, body, decl), body);
    HCORENUM e = NULL;
    mdToken bodies[4], decls[4], ii[4], cls = 0, iface = 0;
    ULONG n = 0, ni = 0;
    HRESULT hr = c->imp->lpVtbl->EnumMethodImpls(c->imp, &e, extra, bodies, decls, 4, &n);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    prof_log("emit: more methodimpls hr=0x%08x n=%u body=0x%08x decl=0x%08x", (unsigned)hr,
             (unsigned)n, n ? (unsigned)bodies[0] : 0u, n ? (unsigned)decls[0] : 0u);
    e = NULL;
    hr = c->imp->lpVtbl->EnumInterfaceImpls(c->imp, &e, extra, ii, 4, &ni);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    if (ni)
        c->imp->lpVtbl->GetInterfaceImplProps(c->imp, ii[0], &cls, &iface);
    prof_log("emit: more interfaceimpls hr=0x%08x n=%u class=0x%08x iface=0x%08x", (unsigned)hr,
             (unsigned)ni, (unsigned)cls, (unsigned)iface);
}

/* A constant's int32 value (-1 for none): the blob is not aligned. */
static int const_i4(UVCP_CONSTANT value, DWORD et)
{
    int v = -1;
    if (value && et == ET_VALUE_I4)
        memcpy(&v, value, sizeof v);
    return v;
}

static void read_property(emit_ctx *c, const char *label, mdProperty pr)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0, nsig = 0, cchv = 0, nother = 0;
    DWORD flags = 0, et = 0;
    PCCOR_SIGNATURE sig = NULL;
    UVCP_CONSTANT value = NULL;
    mdTypeDef owner = 0;
    mdMethodDef setter = 0, getter = 0, other[4];
    HRESULT hr = c->imp->lpVtbl->GetPropertyProps(c->imp, pr, &owner, w, NAME_MAX_CHARS, &cch,
                                                  &flags, &sig, &nsig, &et, &value, &cchv, &setter,
                                                  &getter, other, 4, &nother);
    to_narrow(w, s, sizeof s);
    prof_log("emit: %s hr=0x%08x owner=0x%08x %s flags=0x%x sig=%u et=0x%x value=%d get=0x%08x "
             "set=0x%08x others=%u", label, (unsigned)hr, (unsigned)owner, s, (unsigned)flags,
             (unsigned)nsig, (unsigned)et, const_i4(value, et),
             (unsigned)getter, (unsigned)setter, (unsigned)nother);
}

static void read_event(emit_ctx *c, const char *label, mdEvent ev)
{
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0, nother = 0;
    DWORD flags = 0;
    mdToken type = 0, owner = 0;
    mdMethodDef add = 0, remove = 0, fire = 0, other[4];
    HRESULT hr = c->imp->lpVtbl->GetEventProps(c->imp, ev, &owner, w, NAME_MAX_CHARS, &cch, &flags,
                                               &type, &add, &remove, &fire, other, 4, &nother);
    to_narrow(w, s, sizeof s);
    prof_log("emit: %s hr=0x%08x owner=0x%08x %s flags=0x%x type=0x%08x add=0x%08x remove=0x%08x "
             "fire=0x%08x others=%u", label, (unsigned)hr, (unsigned)owner, s, (unsigned)flags,
             (unsigned)type, (unsigned)add, (unsigned)remove, (unsigned)fire, (unsigned)nother);
}

/* int Count { get; } = 7 as a constant later; event EventHandler Changed. */
static void more_members(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t get_sig[] = { 0x20, 0, ET_I4 }, prop_sig[] = { 0x28, 0, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdProperty pr = 0;
    mdEvent ev = 0;
    mdMethodDef get =
        more_method(c, extra, "get_Count", MI_PUBLIC_INST, get_sig, sizeof get_sig, true);
    to_wide("Count", w, NAME_MAX_CHARS);
    STEP("more property",
         c->emit->lpVtbl->DefineProperty(c->emit, extra, w, 0, prop_sig, sizeof prop_sig, ET_VOID,
                                         NULL, 0, mdMethodDefNil, get, NULL, &pr),
         pr);
    read_property(c, "more property read-back", pr);
    int seven = 7;
    STEP("more setpropertyprops", c->emit->lpVtbl->SetPropertyProps(c->emit, pr, KEEP, ET_VALUE_I4,
                                                                    &seven, 0, KEEP, KEEP,
                                                                    NULL), pr);
    read_property(c, "more setpropertyprops read-back", pr);
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        /* Removing the getter: RegMeta unlinks its row; the host cannot (COR_E_NOTSUPPORTED). */
        HRESULT no = c->emit->lpVtbl->SetPropertyProps(c->emit, pr, KEEP, ET_VOID, NULL, 0, KEEP,
                                                       mdMethodDefNil, NULL);
        prof_check(no == COR_E_NOTSUPPORTED, "SetPropertyProps without its getter: 0x%08x",
                   (unsigned)no);
    }
    mdTypeRef handler = runtime_ref(c, "System.EventHandler");
    uint8_t add_sig[8] = { 0x20, 1, ET_VOID, ET_CLASS };
    ULONG add_len = 4 + compress_token(handler, add_sig + 4);
    mdMethodDef add = more_method(c, extra, "add_Changed", MI_PUBLIC_INST, add_sig, add_len, true);
    mdMethodDef remove =
        more_method(c, extra, "remove_Changed", MI_PUBLIC_INST, add_sig, add_len, true);
    to_wide("Changed", w, NAME_MAX_CHARS);
    STEP("more event", c->emit->lpVtbl->DefineEvent(c->emit, extra, w, 0, handler, add, remove,
                                                    mdMethodDefNil, NULL, &ev), ev);
    read_event(c, "more event read-back", ev);
    STEP("more seteventprops", c->emit->lpVtbl->SetEventProps(c->emit, ev, 0x0200, mdTokenNil,
                                                              mdMethodDefNil, mdMethodDefNil,
                                                              mdMethodDefNil, NULL), ev);
    read_event(c, "more seteventprops read-back", ev);
    mdParamDef pd = 0;
    to_wide("h", w, NAME_MAX_CHARS);
    STEP("more param", c->emit->lpVtbl->DefineParam(c->emit, add, 1, w, 0, ET_VOID, NULL, 0, &pd),
         pd);
    to_wide("value", w, NAME_MAX_CHARS);
    STEP("more setparamprops", c->emit->lpVtbl->SetParamProps(c->emit, pd, w, 0x0001, ET_VOID, NULL,
                                                              0), pd);
    WCHAR back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG seq = 0, cch = 0;
    DWORD flags = 0;
    mdMethodDef owner = 0;
    HRESULT hr = c->imp->lpVtbl->GetParamProps(c->imp, pd, &owner, &seq, back, NAME_MAX_CHARS, &cch,
                                               &flags, NULL, NULL, NULL);
    to_narrow(back, s, sizeof s);
    prof_log("emit: more param read-back hr=0x%08x method=0x%08x seq=%u %s flags=0x%x",
             (unsigned)hr, (unsigned)owner, (unsigned)seq, s, (unsigned)flags);
}

static void read_field(emit_ctx *c, const char *label, mdFieldDef fd)
{
    DWORD flags = 0, et = 0;
    UVCP_CONSTANT value = NULL;
    ULONG cchv = 0, rva = 0;
    HRESULT hr = c->imp->lpVtbl->GetFieldProps(c->imp, fd, NULL, NULL, 0, NULL, &flags, NULL, NULL,
                                               &et, &value, &cchv);
    HRESULT hr2 = c->imp->lpVtbl->GetRVA(c->imp, fd, &rva, NULL);
    prof_log("emit: %s hr=0x%08x flags=0x%x et=0x%x value=%d rva hr=0x%08x", label, (unsigned)hr,
             (unsigned)flags, (unsigned)et, const_i4(value, et),
             (unsigned)hr2);
}

/* Fields: a literal's constant, a marshalled one, one over existing bytes. */
static void more_fields(emit_ctx *c, mdTypeDef extra, ULONG bytes_rva)
{
    static const uint8_t i4[] = { 0x06, ET_I4 };
    static const uint8_t native_i4[] = { 0x07 }; /* NATIVE_TYPE_I4 */
    WCHAR w[NAME_MAX_CHARS];
    mdFieldDef limit = 0, data = 0, table = 0;
    to_wide("Limit", w, NAME_MAX_CHARS);
    STEP("more field",
         c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0056, i4, sizeof i4, ET_VOID, NULL, 0,
                                      &limit),
         limit);
    int answer = 42;
    STEP("more setfieldprops", c->emit->lpVtbl->SetFieldProps(c->emit, limit, KEEP, ET_VALUE_I4,
                                                              &answer, 0), limit);
    read_field(c, "more setfieldprops read-back", limit);
    to_wide("data", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0006, i4, sizeof i4, ET_VOID, NULL, 0, &data);
    STEP("more setfieldmarshal", c->emit->lpVtbl->SetFieldMarshal(c->emit, data, native_i4,
                                                                  sizeof native_i4), data);
    PCCOR_SIGNATURE nt = NULL;
    ULONG nlen = 0;
    HRESULT hr = c->imp->lpVtbl->GetFieldMarshal(c->imp, data, &nt, &nlen);
    prof_log("emit: more fieldmarshal read-back hr=0x%08x len=%u first=0x%02x", (unsigned)hr,
             (unsigned)nlen, nlen ? nt[0] : 0u);
    read_field(c, "more marshalled field read-back", data);
    to_wide("table", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, extra, w, 0x0016, i4, sizeof i4, ET_VOID, NULL, 0,
                                 &table);
    STEP("more setfieldrva", c->emit->lpVtbl->SetFieldRVA(c->emit, table, bytes_rva), table);
    ULONG rva = 0;
    hr = c->imp->lpVtbl->GetRVA(c->imp, table, &rva, NULL);
    prof_log("emit: more fieldrva read-back hr=0x%08x same=%s", (unsigned)hr,
             rva == bytes_rva ? "yes" : "no");
    read_field(c, "more rva field read-back", table);
}

/* Emitted.Blob: explicit layout, one int32 at offset 0, packing 1, size 4. */
static void more_layout(emit_ctx *c)
{
    static const uint8_t i4[] = { 0x06, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef blob = 0;
    mdFieldDef x = 0;
    to_wide("Emitted.Blob", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineTypeDef(c->emit, w, 0x00000111, runtime_ref(c, "System.ValueType"), NULL,
                                   &blob);
    to_wide("x", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineField(c->emit, blob, w, 0x0006, i4, sizeof i4, ET_VOID, NULL, 0, &x);
    COR_FIELD_OFFSET offs[2] = { { x, 0 }, { mdtFieldDef, 0 } };
    STEP("more setclasslayout", c->emit->lpVtbl->SetClassLayout(c->emit, blob, 1, offs, 4), blob);
    COR_FIELD_OFFSET back[4];
    DWORD pack = 0;
    ULONG n = 0, size = 0;
    HRESULT hr = c->imp->lpVtbl->GetClassLayout(c->imp, blob, &pack, back, 4, &n, &size);
    prof_log("emit: more classlayout read-back hr=0x%08x pack=%u fields=%u field=0x%08x "
             "offset=%u size=%u",
             (unsigned)hr, (unsigned)pack, (unsigned)n, n ? (unsigned)back[0].ridOfField : 0u,
             n ? (unsigned)back[0].ulOffset : 0u, (unsigned)size);
}

/* A custom attribute's value changed, a P/Invoke changed, Box`1's parameter renamed,
 * and the refusals RegMeta answers without writing. */
static void more_misc(emit_ctx *c, mdTypeDef extra)
{
    static const uint8_t ctor_bool[] = { 0x20, 1, ET_VOID, 0x02 }, on[] = { 1, 0, 1, 0, 0 },
                         off[] = { 1, 0, 0, 0, 0 }, static_int[] = { 0, 0, ET_I4 };
    WCHAR w[NAME_MAX_CHARS];
    mdMemberRef ctor = 0;
    mdCustomAttribute ca = 0;
    to_wide(".ctor", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, runtime_ref(c, "System.CLSCompliantAttribute"), w,
                                     ctor_bool, sizeof ctor_bool, &ctor);
    STEP("more customattribute", c->emit->lpVtbl->DefineCustomAttribute(c->emit, extra, ctor, on,
                                                                        sizeof on, &ca), ca);
    STEP("more setcustomattributevalue", c->emit->lpVtbl->SetCustomAttributeValue(c->emit, ca, off,
                                                                                  sizeof off), ca);
    const void *blob = NULL;
    ULONG len = 0;
    mdToken owner = 0, type = 0;
    HRESULT hr = c->imp->lpVtbl->GetCustomAttributeProps(c->imp, ca, &owner, &type, &blob, &len);
    prof_log("emit: more customattribute read-back hr=0x%08x owner=0x%08x type=0x%08x same=%s",
             (unsigned)hr, (unsigned)owner, (unsigned)type,
             len == sizeof off && memcmp(blob, off, len) == 0 ? "yes" : "no");
    mdModuleRef libc = 0;
    to_wide("libc", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineModuleRef(c->emit, w, &libc);
    mdMethodDef pid =
        more_method(c, extra, "getpid", PINVOKE_FLAGS, static_int, sizeof static_int, false);
    STEP("more setpinvokemap before any",
         c->emit->lpVtbl->SetPinvokeMap(c->emit, pid, 0x0100, w, libc), pid);
    c->emit->lpVtbl->DefinePinvokeMap(c->emit, pid, 0x0100, w, libc);
    to_wide("getppid", w, NAME_MAX_CHARS);
    STEP("more setpinvokemap",
         c->emit->lpVtbl->SetPinvokeMap(c->emit, pid, 0x0102, w, mdtModuleRef), pid);
    WCHAR back[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    DWORD flags = 0;
    ULONG cch = 0;
    mdModuleRef scope = 0;
    hr = c->imp->lpVtbl->GetPinvokeMap(c->imp, pid, &flags, back, NAME_MAX_CHARS, &cch, &scope);
    to_narrow(back, s, sizeof s);
    prof_log("emit: more pinvoke read-back hr=0x%08x flags=0x%x %s scope=0x%08x", (unsigned)hr,
             (unsigned)flags, s, (unsigned)scope);
    /* Box`1 (observe_class) and its parameter. */
    mdTypeDef box = emit_find_type((IMetaDataImport *)c->imp, "Emitted.Box`1", 0);
    HCORENUM e = NULL;
    mdGenericParam gp[2];
    ULONG n = 0, seq = 0;
    c->imp->lpVtbl->EnumGenericParams(c->imp, &e, box, gp, 2, &n);
    c->imp->lpVtbl->CloseEnum(c->imp, e);
    to_wide("TItem", w, NAME_MAX_CHARS);
    STEP("more setgenericparamprops",
         n ? c->emit->lpVtbl->SetGenericParamProps(c->emit, gp[0], 0x0001, w, 0, NULL) : E_FAIL,
         n ? gp[0] : 0);
    DWORD reserved = 0;
    hr = n ? c->imp->lpVtbl->GetGenericParamProps(c->imp, gp[0], &seq, &flags, &owner, &reserved,
                                                  back, NAME_MAX_CHARS, &cch)
           : E_FAIL;
    to_narrow(back, s, sizeof s);
    prof_log("emit: more genericparam read-back hr=0x%08x seq=%u flags=0x%x owner=0x%08x %s",
             (unsigned)hr, (unsigned)seq, (unsigned)flags, (unsigned)owner, hr == S_OK ? s : "-");
    STEP("more setgenericparamprops reserved", n ? c->emit->lpVtbl->SetGenericParamProps(
                                                       c->emit, gp[0], KEEP, NULL, 1, NULL)
                                                 : E_FAIL, 0);
    STEP("more setgenericparamprops not a parameter",
         c->emit->lpVtbl->SetGenericParamProps(c->emit, extra, KEEP, NULL, 0, NULL), 0);
}

/* The scope's name (the file part of a path), a MemberRef's parent, declarative
 * security, the ENC calls outside ENC mode. */
static void more_scope(emit_ctx *c, mdTypeDef extra, mdTypeRef object)
{
    static const uint8_t void_void[] = { SIG_DEFAULT, 0, ET_VOID }, perm[] = { '.', 0 },
                         perm2[] = { '.', 0, 0 };
    WCHAR w[NAME_MAX_CHARS];
    char s[NAME_MAX_CHARS];
    ULONG cch = 0;
    to_wide("/nowhere/Hello.dll", w, NAME_MAX_CHARS);
    STEP("more setmoduleprops", c->emit->lpVtbl->SetModuleProps(c->emit, w), 0);
    HRESULT hr = c->imp->lpVtbl->GetScopeProps(c->imp, w, NAME_MAX_CHARS, &cch, NULL);
    to_narrow(w, s, sizeof s);
    prof_log("emit: more scope read-back hr=0x%08x %s", (unsigned)hr, s);
    mdMemberRef mr = 0;
    mdToken parent = 0;
    to_wide("Beep", w, NAME_MAX_CHARS);
    c->emit->lpVtbl->DefineMemberRef(c->emit, object, w, void_void, sizeof void_void, &mr);
    /* Nil: CoreCLR 10 writes a nil TypeDef (the parent reads back 0x02000000), which is
     * not valid metadata; the host refuses (PROF_EMIT_BAD_ARGS, the host's run). */
    if (getenv("PROF_EMIT_BAD_ARGS")) {
        hr = c->emit->lpVtbl->SetParent(c->emit, mr, mdTokenNil);
        prof_check(hr == E_INVALIDARG, "SetParent(nil) = 0x%08x", (unsigned)hr);
    }
    STEP("more setparent", c->emit->lpVtbl->SetParent(c->emit, mr, object), mr);
    hr = c->imp->lpVtbl->GetMemberRefProps(c->imp, mr, &parent, NULL, 0, NULL, NULL, NULL);
    prof_log("emit: more setparent read-back hr=0x%08x parent=0x%08x", (unsigned)hr,
             (unsigned)parent);
    mdPermission pm = 0, pm2 = 0;
    STEP("more permissionset",
         c->emit->lpVtbl->DefinePermissionSet(c->emit, extra, 2, perm, sizeof perm, &pm), pm);
    STEP("more permissionset action 0",
         c->emit->lpVtbl->DefinePermissionSet(c->emit, extra, 0, perm, sizeof perm, &pm2), 0);
    STEP("more setpermissionsetprops",
         c->emit->lpVtbl->SetPermissionSetProps(c->emit, extra, 2, perm2, sizeof perm2, &pm2), pm2);
    DWORD action = 0, flags = 0;
    const void *blob = NULL;
    ULONG len = 0;
    hr = c->imp->lpVtbl->GetPermissionSetProps(c->imp, pm, &action, &blob, &len);
    c->imp->lpVtbl->GetTypeDefProps(c->imp, extra, NULL, 0, NULL, &flags, NULL);
    prof_log("emit: more permissionset read-back hr=0x%08x action=%u len=%u type flags=0x%x",
             (unsigned)hr, (unsigned)action, (unsigned)len, (unsigned)flags);
    DWORD size = 0;
    STEP("more getdeltasavesize", c->emit->lpVtbl->GetDeltaSaveSize(c->emit, cssAccurate, &size),
         0);
    STEP("more resetenclog", c->emit->lpVtbl->ResetENCLog(c->emit), 0);
}

/* PROF_EMIT_PROBE (under dotnet, by hand; docs/coreclr-observed.md): what CoreCLR 10
 * answers for the methods the host keeps as stubs, with arguments that cannot hurt
 * ("probe:" lines, compared with nothing). The FEATURE_METADATA_EMIT_ALL methods are
 * called only when DeleteToken shows that feature is off. */
static void probe_stubs(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeDef extra)
{
    if (!getenv("PROF_EMIT_PROBE"))
        return;
    IMetaDataEmit2 *e = c->emit;
    DWORD size = 0;
    HRESULT hr = e->lpVtbl->GetSaveSize(e, cssAccurate, &size);
    prof_log("probe: GetSaveSize hr=0x%08x size %s", (unsigned)hr, size ? "nonzero" : "0");
    hr = e->lpVtbl->GetDeltaSaveSize(e, cssAccurate, &size);
    prof_log("probe: GetDeltaSaveSize hr=0x%08x", (unsigned)hr);
    WCHAR w[NAME_MAX_CHARS];
    to_wide("/tmp/prof_emit_probe.md", w, NAME_MAX_CHARS);
    hr = e->lpVtbl->Save(e, w, 0);
    prof_log("probe: Save hr=0x%08x", (unsigned)hr);
    /* DeleteToken never returned under CoreCLR 10 (docs/coreclr-observed.md): not
     * called. The FEATURE_METADATA_EMIT_ALL methods: */
    static const uint8_t perm[] = { '.', 0 };
    mdPermission pm = 0;
    hr = e->lpVtbl->DefinePermissionSet(e, extra, 2, perm, sizeof perm, &pm);
    prof_log("probe: DefinePermissionSet hr=0x%08x", (unsigned)hr);
    if (hr == E_NOTIMPL) {
        hr = e->lpVtbl->DeleteClassLayout(e, extra);
        prof_log("probe: DeleteClassLayout hr=0x%08x", (unsigned)hr);
        hr = e->lpVtbl->ApplyEditAndContinue(e, NULL);
        prof_log("probe: ApplyEditAndContinue hr=0x%08x", (unsigned)hr);
        hr = e->lpVtbl->Merge(e, NULL, NULL, NULL);
        prof_log("probe: Merge hr=0x%08x", (unsigned)hr);
    }
    hr = e->lpVtbl->DefineSecurityAttributeSet(e, extra, NULL, 0, NULL);
    prof_log("probe: DefineSecurityAttributeSet hr=0x%08x", (unsigned)hr);
    hr = e->lpVtbl->ResetENCLog(e);
    prof_log("probe: ResetENCLog hr=0x%08x", (unsigned)hr);
    mdFile file = 0;
    to_wide("extra.netmodule", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineFile(aemit, w, NULL, 0, 0, &file);
    prof_log("probe: DefineFile hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)file);
    mdExportedType et = 0;
    to_wide("Elsewhere.T", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineExportedType(aemit, w, file, 0x02000001, 1, &et);
    prof_log("probe: DefineExportedType hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)et);
    mdManifestResource mr = 0;
    to_wide("probe.resources", w, NAME_MAX_CHARS);
    hr = aemit->lpVtbl->DefineManifestResource(aemit, w, file, 0, 1, &mr);
    prof_log("probe: DefineManifestResource hr=0x%08x tok=0x%08x", (unsigned)hr, (unsigned)mr);
    ASSEMBLYMETADATA amd;
    memset(&amd, 0, sizeof amd);
    amd.usMajorVersion = 2;
    mdAssemblyRef ar = emit_assembly_ref(c, "ProbeLib");
    hr = aemit->lpVtbl->SetAssemblyRefProps(aemit, ar, NULL, 0, NULL, &amd, NULL, 0, KEEP);
    prof_log("probe: SetAssemblyRefProps hr=0x%08x", (unsigned)hr);
    hr = aemit->lpVtbl->SetAssemblyProps(aemit, TokenFromRid(1, mdtAssembly), NULL, 0, KEEP, NULL,
                                         NULL, KEEP);
    prof_log("probe: SetAssemblyProps hr=0x%08x", (unsigned)hr);
}

void emit_define_more(emit_ctx *c, IMetaDataAssemblyEmit *aemit, mdTypeRef object)
{
    WCHAR w[NAME_MAX_CHARS];
    mdTypeDef extra = 0, program = 0;
    mdMethodDef answer = 0;
    ULONG rva = 0;
    to_wide("Emitted.Extra", w, NAME_MAX_CHARS);
    STEP("more typedef",
         c->emit->lpVtbl->DefineTypeDef(c->emit, w, 0x00100001, object, NULL, &extra), extra);
    /* bytes for the RVA field: Program.Answer's body, which the file has */
    program = emit_find_type((IMetaDataImport *)c->imp, "Hello.Program", 0);
    to_wide("Answer", w, NAME_MAX_CHARS);
    c->imp->lpVtbl->FindMethod(c->imp, program, w, NULL, 0, &answer);
    c->imp->lpVtbl->GetMethodProps(c->imp, answer, NULL, NULL, 0, NULL, NULL, NULL, NULL, &rva,
                                   NULL);
    more_interface(c, extra);
    more_members(c, extra);
    more_fields(c, extra, rva);
    more_layout(c);
    more_misc(c, extra);
    more_scope(c, extra, object);
    probe_stubs(c, aemit, extra);
}
