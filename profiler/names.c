/* names.c: what the plugin asks the runtime's metadata for: type and method names, the
 * stack shapes of call targets (cached per module), the local a wrap reuses, and the
 * probe methods rules name. */
#include "plugin_state.h"

/* ---- names -------------------------------------------------------------------------- */

/* UTF-16 (up to n units or a NUL) to UTF-8, cut to cap; returns the length. */
static size_t to_utf8(const WCHAR *w, size_t n, char *out, size_t cap)
{
    return ilg__utf16_to_utf8(w, n, out, cap, NULL);
}

/* The first n bytes of s (UTF-8) to UTF-16 for the metadata API, cut to cap. */
static void to_wide(const char *s, size_t n, WCHAR *out, size_t cap)
{
    ilg__utf8_to_utf16(s, n, out, cap);
}

/* "Ns.Type" (nested: "Ns.Outer/Inner") of a TypeDef. The runtime's metadata is
 * trusted no further than 64 levels of nesting (a cycle would recurse for ever). */
static void type_name(IMetaDataImport *md, mdTypeDef td, char *out, size_t cap, int depth)
{
    WCHAR name[NAME_CAP];
    ULONG len = 0;
    mdTypeDef outer = 0;
    size_t n = 0;
    if (depth > 64) {
        snprintf(out, cap, "?");
        return;
    }
    if (RidFromToken(td) == 1 || md->lpVtbl->GetTypeDefProps(md, td, name, NAME_CAP, &len, NULL,
                                                               NULL) != S_OK) {
        snprintf(out, cap, "<Module>");
        return;
    }
    if (md->lpVtbl->GetNestedClassProps(md, td, &outer) == S_OK && outer && outer != td) {
        type_name(md, outer, out, cap, depth + 1);
        n = strlen(out);
        if (n + 1 < cap)
            out[n++] = '/';
        else
            n = 0; /* no room left: the type's own name alone */
    }
    to_utf8(name, len, out + n, cap - n);
}

/* ---- signatures (ECMA-335 II.23.2) -------------------------------------------------- */

bool ilg__plugin_parse_method_sig(const uint8_t *sig, size_t len, method_shape *m)
{
    ilg_sig_cur s = { sig, sig + len };
    uint8_t conv = 0;
    uint32_t g, n, tok;
    if (len < 2 || !ilg__sig_u8(&s, &conv) || (conv & ILG_SIG_KIND_MASK) == ILG_SIG_FIELD ||
        (conv & ILG_SIG_KIND_MASK) == ILG_SIG_LOCAL)
        return false;
    if (((conv & ILG_SIG_GENERIC) && !ilg__sig_uint(&s, &g)) || !ilg__sig_uint(&s, &n))
        return false;
    m->has_this = (conv & ILG_SIG_HASTHIS) != 0;
    m->pops = n + (m->has_this && !(conv & ILG_SIG_EXPLICITTHIS) ? 1 : 0);
    m->ret_start = (size_t)(s.p - sig);
    ilg_sig_cur t = s; /* past the return type's modifiers: is it void? */
    while (t.p < t.end && (*t.p == ILG_ET_CMOD_REQD || *t.p == ILG_ET_CMOD_OPT))
        if (t.p++, !ilg__sig_uint(&t, &tok))
            return false;
    if (t.p >= t.end)
        return false;
    m->returns = *t.p != ILG_ET_VOID;
    if (!ilg__sig_skip_type(&s, 0, SIG_MAX_DEPTH, NULL))
        return false;
    m->ret_end = (size_t)(s.p - sig);
    return true;
}

static ilg_status lookup_shape(IMetaDataImport *md, uint32_t token, uint32_t *pops,
                               bool *has_this, bool *pushes)
{
    PCCOR_SIGNATURE sig = NULL;
    ULONG sig_len = 0;
    HRESULT hr = E_FAIL;
    switch (TypeFromToken(token)) {
    case mdtMethodDef:
        hr = md->lpVtbl->GetMethodProps(md, token, NULL, NULL, 0, NULL, NULL, &sig, &sig_len, NULL,
                                        NULL);
        break;
    case mdtMemberRef:
        hr = md->lpVtbl->GetMemberRefProps(md, token, NULL, NULL, 0, NULL, &sig, &sig_len);
        break;
    case mdtSignature:
        hr = md->lpVtbl->GetSigFromToken(md, token, &sig, &sig_len);
        break;
    case mdtMethodSpec: {
        IMetaDataImport2 *md2 = NULL;
        mdToken parent = 0;
        if (md->lpVtbl->QueryInterface(md, &IID_IMetaDataImport2, (void **)&md2) != S_OK || !md2)
            break;
        hr = md2->lpVtbl->GetMethodSpecProps(md2, token, &parent, NULL, NULL);
        md2->lpVtbl->Release(md2);
        if (hr == S_OK && TypeFromToken(parent) != mdtMethodSpec)
            return lookup_shape(md, parent, pops, has_this, pushes);
        hr = E_FAIL;
        break;
    }
    default:
        break;
    }
    method_shape m;
    if (hr != S_OK || !sig || !ilg__plugin_parse_method_sig(sig, sig_len, &m))
        return ilg__fail(ILG_E_IL_STACK_UNKNOWN, ILG_WHERE_NONE, 0,
                         "no call signature for token 0x%08x (0x%08x)", (unsigned)token,
                         (unsigned)hr);
    *pops = m.pops;
    *has_this = m.has_this;
    *pushes = m.returns;
    return ILG_OK;
}

/* Drops a module's state (its ModuleID may be reused by a later module). */
void ilg__plugin_module_state_free(module_state *m)
{
    if (m->md)
        m->md->lpVtbl->Release(m->md);
    if (m->alloc)
        m->alloc->lpVtbl->Release(m->alloc);
    if (m->emit)
        m->emit->lpVtbl->Release(m->emit);
    free(m->assembly);
    for (int t = 0; t < SHAPE_TABLES; t++)
        free(m->rows[t]);
}

/* The worker's state for module (its importer asked for on first use); NULL when the
 * runtime gives no importer or memory is short. The pointer lasts until the next call. */
module_state *ilg__plugin_module_state_get(worker *w, ModuleID module)
{
    if (w->module_last < w->module_count && w->modules[w->module_last].module == module)
        return &w->modules[w->module_last];
    for (size_t i = 0; i < w->module_count; i++)
        if (w->modules[i].module == module) {
            w->module_last = i;
            return &w->modules[i];
        }
    if (ilg__grow_size((void **)&w->modules, &w->module_cap, w->module_count + 1, sizeof *w->modules) != ILG_OK)
        return NULL;
    IUnknown *unk = NULL;
    ICorProfilerInfo3 *info = w->p->info;
    if (info->lpVtbl->GetModuleMetaData(info, module, ofRead, &IID_IMetaDataImport, &unk) != S_OK ||
        !unk)
        return NULL;
    w->module_last = w->module_count;
    module_state *m = &w->modules[w->module_count++];
    memset(m, 0, sizeof *m);
    m->module = module;
    m->md = (IMetaDataImport *)unk;
    return m;
}

void ilg__plugin_module_state_forget(worker *w, ModuleID module)
{
    for (size_t i = 0; i < w->module_count; i++)
        if (w->modules[i].module == module) {
            ilg__plugin_module_state_free(&w->modules[i]);
            w->modules[i] = w->modules[--w->module_count];
            w->module_last = 0;
            return;
        }
}

/* The cache slot of token's shape in module m, grown to hold it; NULL when the token
 * kind is not cached or memory is short (the shape is then looked up every time). */
static uint32_t *shape_slot(module_state *m, uint32_t token)
{
    int t;
    switch (TypeFromToken(token)) {
    case mdtMethodDef: t = SHAPE_METHODDEF; break;
    case mdtMemberRef: t = SHAPE_MEMBERREF; break;
    case mdtMethodSpec: t = SHAPE_METHODSPEC; break;
    case mdtSignature: t = SHAPE_SIG; break;
    default: return NULL;
    }
    uint32_t rid = RidFromToken(token);
    if (rid >= m->caps[t]) {
        const uint32_t old = m->caps[t];
        if (ilg__grow((void **)&m->rows[t], &m->caps[t], rid < 256 ? 256 : (uint64_t)rid + 1,
                      sizeof *m->rows[t]) != ILG_OK)
            return NULL;
        memset(m->rows[t] + old, 0, (size_t)(m->caps[t] - old) * sizeof *m->rows[t]);
    }
    return &m->rows[t][rid];
}

ilg_status ilg__plugin_call_shape(void *ctx, uint32_t token, uint32_t *pops, bool *has_this,
                             bool *pushes)
{
    module_state *m = ctx;
    uint32_t *slot = shape_slot(m, token);
    if (slot && (*slot & SHAPE_KNOWN)) {
        *pops = *slot & SHAPE_POPS;
        *has_this = (*slot & SHAPE_THIS) != 0;
        *pushes = (*slot & SHAPE_PUSHES) != 0;
        return ILG_OK;
    }
    ilg_status st = lookup_shape(m->md, token, pops, has_this, pushes);
    if (st == ILG_OK && slot && *pops <= SHAPE_POPS)
        *slot = SHAPE_KNOWN | (*has_this ? SHAPE_THIS : 0) | (*pushes ? SHAPE_PUSHES : 0) | *pops;
    return st;
}

/* Index of the first local whose type is the method's return type (not pinned), or
 * ILG_NO_LOCAL. Overwriting it on the way out is safe: it is never read again. */
uint32_t ilg__plugin_local_of_type(IMetaDataImport *md, uint32_t local_sig, const uint8_t *msig,
                              const method_shape *m)
{
    PCCOR_SIGNATURE sig = NULL;
    ULONG len = 0;
    uint32_t n;
    uint8_t conv;
    if (!local_sig || md->lpVtbl->GetSigFromToken(md, local_sig, &sig, &len) != S_OK || len < 2)
        return ILG_NO_LOCAL;
    ilg_sig_cur s = { sig, sig + len };
    if (!ilg__sig_u8(&s, &conv) || conv != ILG_SIG_LOCAL || !ilg__sig_uint(&s, &n))
        return ILG_NO_LOCAL;
    const size_t want = m->ret_end - m->ret_start;
    for (uint32_t i = 0; i < n && s.p < s.end; i++) {
        const uint8_t *start = s.p;
        if (!ilg__sig_skip_type(&s, 0, SIG_MAX_DEPTH, NULL))
            return ILG_NO_LOCAL;
        if ((size_t)(s.p - start) == want && memcmp(start, msig + m->ret_start, want) == 0)
            return i;
    }
    return ILG_NO_LOCAL;
}

/* ---- probes ------------------------------------------------------------------------- */

/* The TypeDef of "Ns.Outer/Inner" in md: each '/' one level of nesting, looked up by its
 * own name within the enclosing type (a nested type has no namespace of its own). 0,
 * with why saying which level is missing, when there is none. */
static mdTypeDef find_probe_type(IMetaDataImport *md, const char *path, char *why, size_t cap)
{
    WCHAR wname[NAME_CAP];
    mdTypeDef td = 0;
    for (const char *seg = path;;) {
        const char *slash = strchr(seg, '/');
        size_t n = slash ? (size_t)(slash - seg) : strlen(seg);
        mdTypeDef enclosing = td;
        to_wide(seg, n, wname, NAME_CAP);
        if (!n || md->lpVtbl->FindTypeDefByName(md, wname, enclosing, &td) != S_OK) {
            if (enclosing)
                snprintf(why, cap, "no type %.*s nested in %.*s", (int)n, seg,
                         (int)(seg - 1 - path), path);
            else
                snprintf(why, cap, "no type %.*s", (int)n, seg);
            return 0;
        }
        if (!slash)
            return td;
        seg = slash + 1;
    }
}

/* The signature's bytes as "00 01 01 0e" (at most 16 of them) into hex. */
static void sig_hex(const uint8_t *sig, size_t len, char *hex, size_t cap)
{
    size_t o = 0;
    hex[0] = 0;
    for (size_t i = 0; i < len && i < 16 && o < cap; i++)
        o += (size_t)snprintf(hex + o, cap - o, "%s%02x", i ? " " : "", sig[i]);
    if (len > 16 && o < cap)
        snprintf(hex + o, cap - o, " ...");
}

/* Rule r's probe in md, a static method of the rule's signature, or 0 with why saying
 * what is missing: the type (or a nesting level), the method, or the signature (the
 * method's is shown). */
static mdMethodDef resolve_probe(IMetaDataImport *md, const ilg__plugin_rule *r, char *why,
                                 size_t cap)
{
    WCHAR wname[NAME_CAP];
    mdMethodDef mb = 0;
    PCCOR_SIGNATURE sig = NULL;
    ULONG len = 0;
    uint8_t want[3 + ILG__PROBE_ARGS_MAX];
    const size_t want_len = ilg__plugin_probe_sig(r, want);
    mdTypeDef td = find_probe_type(md, r->probe_type, why, cap);
    if (!td)
        return 0;
    to_wide(r->probe_method, strlen(r->probe_method), wname, NAME_CAP);
    if (md->lpVtbl->FindMethod(md, td, wname, want, (ULONG)want_len, &mb) == S_OK)
        return mb;
    if (md->lpVtbl->FindMethod(md, td, wname, NULL, 0, &mb) != S_OK ||
        md->lpVtbl->GetMethodProps(md, mb, NULL, NULL, 0, NULL, NULL, &sig, &len, NULL, NULL) !=
            S_OK ||
        !sig) {
        snprintf(why, cap, "no method %s in %s", r->probe_method, r->probe_type);
        return 0;
    }
    char hex[3 * 16 + 4], want_hex[3 * 16 + 4];
    sig_hex(sig, len, hex, sizeof hex);
    sig_hex(want, want_len, want_hex, sizeof want_hex);
    snprintf(why, cap, "%s::%s (0x%08x) has signature %s, not %s (%s)", r->probe_type,
             r->probe_method, (unsigned)mb, hex, r->probe_argc ? "the probe's" : "static void()",
             want_hex);
    return 0;
}

/* Drops the module's entries from a list of looked-up probes. */
void ilg__plugin_probe_drop(probe_cache *items, size_t *count, ModuleID module)
{
    size_t kept = 0;
    for (size_t i = 0; i < *count; i++)
        if (items[i].module != module)
            items[kept++] = items[i];
    *count = kept;
}

static bool probe_push(probe_cache **items, size_t *count, size_t *cap, probe_cache c)
{
    if (ilg__grow_size((void **)items, cap, *count + 1, sizeof **items) != ILG_OK)
        return false;
    (*items)[(*count)++] = c;
    return true;
}

/* Rule ri's probe in module mod (0: none there). The worker's copy, else the plugin's
 * list, else looked up; a probe that is not there is logged then, once per module, with
 * the reason: its rules skip the module, and the log must say why. */
mdToken ilg__plugin_find_probe(worker *w, module_state *ms, size_t ri)
{
    IMetaDataImport *md = ms->md;
    const ModuleID mod = ms->module;
    plugin *p = w->p;
    size_t id = p->probe_of[ri];
    for (size_t i = 0; i < w->probe_count; i++)
        if (w->probes[i].module == mod && w->probes[i].probe == id)
            return w->probes[i].token;
    probe_cache found = { mod, id, 0 };
    bool known = false;
    pthread_mutex_lock(&p->probe_lock);
    for (size_t i = 0; i < p->probe_count && !known; i++)
        if (p->probes[i].module == mod && p->probes[i].probe == id) {
            found = p->probes[i];
            known = true;
        }
    if (!known) {
        const ilg__plugin_rule *r = &p->rules.items[id];
        char why[512], name[NAME_CAP] = "";
        WCHAR wname[NAME_CAP];
        ULONG len = 0;
        if (!ilg__plugin_probe_is_local(ms, r))
            found.token = ilg__plugin_probe_ref(w, ms, r, why, sizeof why);
        else
            found.token = resolve_probe(md, r, why, sizeof why);
        if (!found.token) {
            if (p->info->lpVtbl->GetModuleInfo(p->info, mod, NULL, NAME_CAP, &len, wname, NULL) ==
                S_OK)
                to_utf8(wname, len, name, sizeof name);
            ilg__plugin_plog(p, "probe %s not found in %s%s (module 0x%llx): %s; rules with this probe "
                    "skip the module",
                 r->probe, name, name[0] ? "" : "a module without a name",
                 (unsigned long long)mod, why);
        }
        probe_push(&p->probes, &p->probe_count, &p->probe_cap, found);
    }
    pthread_mutex_unlock(&p->probe_lock);
    probe_push(&w->probes, &w->probe_count, &w->probe_cap, found);
    return found.token;
}

/* "Ns.Type::Method" and "Type::Method" into full and simple (each FULL_CAP; simple may
 * be NULL), returning full's length,
 * from the method's name as GetMethodProps gave it (wname, len) and its owner's name,
 * which the worker keeps for the next method of the same type. */
size_t ilg__plugin_method_names(worker *w, IMetaDataImport *md, ModuleID mod, mdTypeDef owner,
                           const WCHAR *wname, ULONG len, char *full, char *simple)
{
    if (mod != w->name_module || owner != w->name_owner) {
        type_name(md, owner, w->owner_name, sizeof w->owner_name, 0);
        w->owner_len = strlen(w->owner_name);
        const char *dot = strrchr(w->owner_name, '.');
        w->owner_simple = dot ? (size_t)(dot + 1 - w->owner_name) : 0;
        w->name_module = mod;
        w->name_owner = owner;
    }
    /* The owner's name is shorter than NAME_CAP, the method's is cut there. */
    size_t t = w->owner_len;
    memcpy(full, w->owner_name, t);
    full[t] = full[t + 1] = ':';
    size_t n = t + 2 + to_utf8(wname, len, full + t + 2, NAME_CAP);
    if (simple)
        memcpy(simple, full + w->owner_simple, n - w->owner_simple + 1);
    return n;
}

/* The method's full name into full (FULL_CAP), "?" when the metadata has none. */
void ilg__plugin_name_method(worker *w, module_state *ms, mdMethodDef tok, char *full)
{
    WCHAR wname[NAME_CAP];
    ULONG len = 0;
    mdTypeDef owner = 0;
    if (ms->md->lpVtbl->GetMethodProps(ms->md, tok, &owner, wname, NAME_CAP, &len, NULL, NULL,
                                       NULL, NULL, NULL) == S_OK)
        ilg__plugin_method_names(w, ms->md, ms->module, owner, wname, len, full, NULL);
    else
        snprintf(full, FULL_CAP, "?");
}
