/* rules.c: the plugin's rules file (ILGRAFT_RULES): JSON parsed with jansson into
 * ilg__plugin_rules, and the Type::Method wildcard match. */
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
        free(r->items[i].probe_type);
        free(r->items[i].probe_method);
        free(r->items[i].body);
    }
    free(r->items);
    r->items = NULL;
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

/* "Ns.Type::Method" split at its last "::". */
static ilg_status split_probe(const char *text, size_t i, ilg__plugin_rule *r)
{
    const char *sep = NULL;
    for (const char *p = strstr(text, "::"); p; p = strstr(p + 1, "::"))
        sep = p;
    if (!sep || sep == text || !sep[2])
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "rule %zu: probe \"%s\" is not Type::Method", i, text);
    r->probe_type = strndup(text, (size_t)(sep - text));
    r->probe_method = strdup(sep + 2);
    if (!r->probe_type || !r->probe_method)
        return ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "rule %zu: probe name", i);
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
        return probe ? split_probe(probe, i, r) : ILG_E_PROF_RULES;
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
    r.count = json_array_size(list);
    if (r.count && !(r.items = calloc(r.count, sizeof *r.items))) {
        st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "%zu rules", r.count);
        goto done;
    }
    for (size_t i = 0; i < r.count && st == ILG_OK; i++)
        st = parse_rule(json_array_get(list, i), i, &r.items[i]);
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
