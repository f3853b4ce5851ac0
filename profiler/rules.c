/* rules.c: the plugin's rules file (ILGRAFT_RULES): JSON parsed with jansson into
 * ilg__plugin_rules, and the Type::Method wildcard match. */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ilg_private.h"
#include "plugin_private.h"

static const char *const action_names[] = {
    [ILG__ACT_IDENTITY] = "identity", [ILG__ACT_MUTATE] = "mutate",
    [ILG__ACT_PROBE_ENTRY] = "probe-entry", [ILG__ACT_PROBE_EXIT] = "probe-exit",
    [ILG__ACT_REPLACE] = "replace",
};

const char *ilg__plugin_action_name(ilg__plugin_action a)
{
    return (size_t)a < ILG_ARRAY_LEN(action_names) ? action_names[a] : "?";
}

void ilg__plugin_rules_free(ilg__plugin_rules *r)
{
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].match);
        free(r->items[i].probe);
        free(r->items[i].probe_type);
        free(r->items[i].probe_method);
        free(r->items[i].probe_assembly);
        free(r->items[i].body);
    }
    free(r->items);
    free(r->rejit_at);
    r->items = NULL;
    r->rejit_at = NULL;
    r->count = 0;
}

/* A required string member of rule i (NULL after recording E_PROF_RULES). */
static const char *member(json_t *rule, size_t i, const char *key)
{
    json_t *v = json_object_get(rule, key);
    if (!json_is_string(v)) {
        ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "rule %zu: \"%s\" is %s, want a string", i,
                  key, v ? "not a string" : "missing");
        return NULL;
    }
    return json_string_value(v);
}

static ilg_status opcode_member(json_t *rule, size_t i, const char *key, ilg_opcode *out)
{
    const char *name = member(rule, i, key);
    if (!name)
        return ILG_E_PROF_RULES;
    if (ilg_opcode_by_name(name, strlen(name), out) != ILG_OK)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "rule %zu: \"%s\": unknown opcode \"%s\"",
                         i, key, name);
    return ILG_OK;
}

/* The probe's parameter kinds by name, and their signature element types. */
static const struct {
    const char *name;
    uint8_t type;
} probe_params[] = {
    [ILG__PARG_NAME] = { "string", ILG_ET_STRING },
    [ILG__PARG_TOKEN] = { "int32", ILG_ET_I4 },
    [ILG__PARG_RETURN] = { "object", ILG_ET_OBJECT },
};

size_t ilg__plugin_probe_sig(const ilg__plugin_rule *r, uint8_t *sig)
{
    size_t n = 0;
    sig[n++] = ILG_SIG_DEFAULT;
    sig[n++] = r->probe_argc;
    sig[n++] = ILG_ET_VOID;
    for (uint8_t i = 0; i < r->probe_argc; i++)
        sig[n++] = probe_params[r->probe_args[i]].type;
    return n;
}

bool ilg__plugin_same_probe(const ilg__plugin_rule *a, const ilg__plugin_rule *b)
{
    return a->probe && b->probe && strcmp(a->probe, b->probe) == 0 &&
           memcmp(a->probe_version, b->probe_version, sizeof a->probe_version) == 0 &&
           a->probe_has_key == b->probe_has_key &&
           memcmp(a->probe_key_token, b->probe_key_token, sizeof a->probe_key_token) == 0;
}

/* The "(string, int32)" of a probe, text[0..len) without the parentheses. */
static ilg_status probe_param_list(const char *text, size_t len, size_t i, ilg__plugin_rule *r)
{
    const char *p = text, *end = text + len;
    while (p < end && *p == ' ')
        p++;
    if (p == end)
        return ILG_OK; /* "()" */
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *stop = comma ? comma : end, *q = stop;
        while (p < q && *p == ' ')
            p++;
        while (q > p && q[-1] == ' ')
            q--;
        size_t k = 0;
        while (k < ILG_ARRAY_LEN(probe_params) &&
               (strlen(probe_params[k].name) != (size_t)(q - p) ||
                memcmp(probe_params[k].name, p, (size_t)(q - p)) != 0))
            k++;
        if (k == ILG_ARRAY_LEN(probe_params))
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe parameter \"%.*s\" is not supported (string: the "
                             "method's name, int32: its token, object: probe-exit's return value)",
                             i, (int)(q - p), p);
        if (k == ILG__PARG_RETURN && r->action != ILG__ACT_PROBE_EXIT)
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe parameter \"object\" (the return value) is for "
                             "probe-exit only", i);
        if (r->probe_argc == ILG__PROBE_ARGS_MAX)
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe has more than %d parameters", i, ILG__PROBE_ARGS_MAX);
        r->probe_args[r->probe_argc++] = (uint8_t)k;
        if (!comma)
            return ILG_OK;
        p = comma + 1;
    }
}

/* "[Assembly]Ns.Type::Method(params)" (assembly and parameters optional): split at the
 * last "::" before the parameter list. */
static ilg_status split_probe(const char *text, size_t i, ilg__plugin_rule *r)
{
    const char *start = text, *sep = NULL, *open = strchr(text, '(');
    size_t end = open ? (size_t)(open - text) : strlen(text);
    if (!(r->probe = strdup(text)))
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: probe name", i);
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close == text + 1 || (open && close > open))
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe \"%s\": want [Assembly]Type::Method", i, text);
        if (!(r->probe_assembly = strndup(text + 1, (size_t)(close - text - 1))))
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: probe assembly", i);
        start = close + 1;
    }
    for (const char *p = strstr(start, "::"); p && (size_t)(p - text) < end; p = strstr(p + 1, "::"))
        sep = p;
    if (!sep || sep == start || (size_t)(sep + 2 - text) >= end)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "rule %zu: probe \"%s\" is not Type::Method", i, text);
    if (open && (strchr(open, ')') != text + strlen(text) - 1))
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "rule %zu: probe \"%s\": the parameter list does not end the name", i,
                         text);
    r->probe_type = strndup(start, (size_t)(sep - start));
    r->probe_method = strndup(sep + 2, end - (size_t)(sep + 2 - text));
    if (!r->probe_type || !r->probe_method)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: probe name", i);
    return open ? probe_param_list(open + 1, strlen(open) - 2, i, r) : ILG_OK;
}

/* "probe_assembly": {"version": "1.2.3.4", "public_key_token": "16 hex digits"}, both
 * optional; only with a probe in another assembly. */
static ilg_status probe_assembly(json_t *rule, size_t i, ilg__plugin_rule *r)
{
    json_t *pa = json_object_get(rule, "probe_assembly");
    if (!pa)
        return ILG_OK;
    if (!json_is_object(pa) || !r->probe_assembly)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "rule %zu: \"probe_assembly\" %s", i,
                         r->probe_assembly ? "is not an object"
                                           : "without a probe in another assembly ([Name]...)");
    json_t *v = json_object_get(pa, "version"), *k = json_object_get(pa, "public_key_token");
    r->probe_meta = true;
    if (v) {
        const char *t = json_is_string(v) ? json_string_value(v) : "";
        unsigned n[4];
        int used = 0;
        if (sscanf(t, "%5u.%5u.%5u.%5u%n", &n[0], &n[1], &n[2], &n[3], &used) != 4 ||
            t[used] || n[0] > 65535 || n[1] > 65535 || n[2] > 65535 || n[3] > 65535)
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe_assembly version \"%s\" is not A.B.C.D", i, t);
        for (int d = 0; d < 4; d++)
            r->probe_version[d] = (uint16_t)n[d];
    }
    if (k) {
        const char *t = json_is_string(k) ? json_string_value(k) : "";
        bool ok = strlen(t) == 16;
        for (int d = 0; ok && d < 8; d++) {
            unsigned byte;
            ok = sscanf(t + 2 * d, "%2x", &byte) == 1 && isxdigit((unsigned char)t[2 * d]) &&
                 isxdigit((unsigned char)t[2 * d + 1]);
            r->probe_key_token[d] = (uint8_t)byte;
        }
        if (!ok)
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: probe_assembly public_key_token \"%s\" is not 16 hex "
                             "digits", i, t);
        r->probe_has_key = true;
    }
    return ILG_OK;
}

static ilg_status parse_rule(json_t *rule, size_t i, ilg__plugin_rule *r)
{
    if (!json_is_object(rule))
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "rule %zu is not an object", i);
    const char *match = member(rule, i, "match");
    const char *action = member(rule, i, "action");
    if (!match || !action)
        return ILG_E_PROF_RULES;
    if (!(r->match = strdup(match)))
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: match", i);
    size_t a = 0;
    while (a < ILG_ARRAY_LEN(action_names) && strcmp(action_names[a], action) != 0)
        a++;
    if (a == ILG_ARRAY_LEN(action_names))
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "rule %zu: unknown action \"%s\" (identity, mutate, probe-entry, "
                         "probe-exit, replace)", i, action);
    r->action = (ilg__plugin_action)a;
    switch (r->action) {
    case ILG__ACT_IDENTITY:
        return ILG_OK;
    case ILG__ACT_MUTATE: {
        ilg_status st = opcode_member(rule, i, "from", &r->from);
        if (st == ILG_OK)
            st = opcode_member(rule, i, "to", &r->to);
        if (st != ILG_OK)
            return st;
        const ilg_opcode_info *f = ilg_opcode_get(r->from), *t = ilg_opcode_get(r->to);
        /* Same operand kind keeps the operand meaningful; same stack effect keeps the
         * body valid, which is what mutation testing wants (a wrong answer, not a crash). */
        if (f->operand != t->operand || f->pops != t->pops || f->pushes != t->pushes ||
            f->flow != t->flow)
            return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                             "rule %zu: mutate %s -> %s changes the operand or stack effect", i,
                             f->name, t->name);
        return ILG_OK;
    }
    case ILG__ACT_PROBE_ENTRY:
    case ILG__ACT_PROBE_EXIT: {
        const char *probe = member(rule, i, "probe");
        ilg_status st = probe ? split_probe(probe, i, r) : ILG_E_PROF_RULES;
        return st == ILG_OK ? probe_assembly(rule, i, r) : st;
    }
    case ILG__ACT_REPLACE: {
        const char *body = member(rule, i, "body");
        if (!body)
            return ILG_E_PROF_RULES;
        /* Parse once now so a bad body is reported at start-up, not per method. */
        ilg_body *probe = NULL;
        ilg_status st = ilg_body_new(&probe);
        if (st == ILG_OK)
            st = ilg_body_assemble(probe, body, strlen(body), NULL);
        ilg_body_free(probe);
        if (st != ILG_OK)
            return ilg__fail_context("rule %zu: replace body", i);
        if (!(r->body = strdup(body)))
            return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: body", i);
        return ILG_OK;
    }
    }
    return ILG_E_PROF_RULES;
}

/* One AssemblyRef per assembly and module: a "probe_assembly" applies to every rule
 * naming that assembly, and two rules may not give it differently. */
static ilg_status share_probe_assemblies(ilg__plugin_rules *r)
{
    for (size_t i = 0; i < r->count; i++) {
        ilg__plugin_rule *a = &r->items[i];
        if (!a->probe_assembly || !a->probe_meta)
            continue;
        for (size_t k = 0; k < r->count; k++) {
            ilg__plugin_rule *b = &r->items[k];
            if (k == i || !b->probe_assembly || strcmp(a->probe_assembly, b->probe_assembly) != 0)
                continue;
            if (!b->probe_meta) {
                memcpy(b->probe_version, a->probe_version, sizeof b->probe_version);
                memcpy(b->probe_key_token, a->probe_key_token, sizeof b->probe_key_token);
                b->probe_has_key = a->probe_has_key;
                b->probe_meta = true;
            } else if (memcmp(a->probe_version, b->probe_version, sizeof a->probe_version) != 0 ||
                       a->probe_has_key != b->probe_has_key ||
                       memcmp(a->probe_key_token, b->probe_key_token, sizeof a->probe_key_token) != 0) {
                return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                                 "rules %zu and %zu: probe_assembly of %s differs", i < k ? i : k,
                                 i < k ? k : i, a->probe_assembly);
            }
        }
    }
    return ILG_OK;
}

/* "mode" ("jit", the default, or "rejit") and "rejit_at" (a pattern; rejit mode only). */
static ilg_status parse_mode(json_t *root, ilg__plugin_rules *r)
{
    json_t *mode = json_object_get(root, "mode"), *at = json_object_get(root, "rejit_at");
    if (mode && (!json_is_string(mode) || (strcmp(json_string_value(mode), "jit") != 0 &&
                                           strcmp(json_string_value(mode), "rejit") != 0)))
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "\"mode\" is %s, want \"jit\" or \"rejit\"",
                         json_is_string(mode) ? json_string_value(mode) : "not a string");
    r->rejit = mode && strcmp(json_string_value(mode), "rejit") == 0;
    if (!at)
        return ILG_OK;
    if (!json_is_string(at) || !json_string_value(at)[0])
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "\"rejit_at\" is not a non-empty string");
    if (!r->rejit)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "\"rejit_at\" (%s) without \"mode\": \"rejit\"", json_string_value(at));
    if (!(r->rejit_at = strdup(json_string_value(at))))
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rejit_at");
    return ILG_OK;
}

ilg_status ilg__plugin_rules_parse(const char *text, size_t len, ilg__plugin_rules *out)
{
    json_error_t jerr;
    ilg__plugin_rules r = { 0 };
    ilg_status st = ILG_OK;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (!root)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_FILE, (uint64_t)jerr.position,
                         "rules JSON line %d: %s", jerr.line, jerr.text);
    json_t *list = json_object_get(root, "rules");
    if (!json_is_array(list)) {
        st = ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "\"rules\" is %s, want an array",
                       list ? "not an array" : "missing");
        goto done;
    }
    json_t *opt = json_object_get(root, "disable_ngen");
    r.disable_ngen = opt && json_is_true(opt);
    opt = json_object_get(root, "disable_inlining");
    r.disable_inlining = !opt || json_is_true(opt);
    if (opt && !json_is_boolean(opt)) {
        st = ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "\"disable_inlining\" is not a boolean");
        goto done;
    }
    if ((st = parse_mode(root, &r)) != ILG_OK)
        goto done;
    r.count = json_array_size(list);
    if (r.count && !(r.items = calloc(r.count, sizeof *r.items))) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%zu rules", r.count);
        goto done;
    }
    for (size_t i = 0; i < r.count && st == ILG_OK; i++)
        st = parse_rule(json_array_get(list, i), i, &r.items[i]);
    if (st == ILG_OK)
        st = share_probe_assemblies(&r);
done:
    json_decref(root);
    if (st != ILG_OK) {
        ilg__plugin_rules_free(&r);
        return st;
    }
    *out = r;
    return ILG_OK;
}

ilg_status ilg__plugin_rules_load(const char *path, ilg__plugin_rules *out)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    ilg_status st = ILG_OK;
    FILE *f = fopen(path, "rb");
    if (!f)
        return ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "rules file %s: %s", path, strerror(errno));
    for (;;) {
        if (len == cap && (st = ilg__grow_size((void **)&text, &cap, len + 4096, 1)) != ILG_OK)
            goto done;
        size_t got = fread(text + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_FILE, len, "rules file %s: read error", path);
        goto done;
    }
    st = ilg__plugin_rules_parse(text, len, out);
    if (st != ILG_OK)
        ilg__fail_context("%s", path);
done:
    fclose(f);
    free(text);
    return st;
}

bool ilg__plugin_rule_matches(const ilg__plugin_rule *rule, const char *full, const char *simple)
{
    if (rule->match[0] == '*' && !rule->match[1])
        return true;
    return fnmatch(rule->match, full, 0) == 0 || (simple && fnmatch(rule->match, simple, 0) == 0);
}
