/* rewrite.c: the plugin's actions as edits of a decoded body, through ilbody's public
 * editing calls only. The caller decodes before and encodes after. */
#include <stdlib.h>
#include <string.h>

#include "ilg_private.h"
#include "plugin_private.h"

/* The env's scratch body, emptied, or a new one (*made tells the caller to free it). */
static ilg_status snippet_body(const ilg__plugin_env *env, ilg_body **out, bool *made)
{
    *made = !env->scratch;
    if (env->scratch) {
        ilg_body_reset(env->scratch);
        *out = env->scratch;
        return ILG_OK;
    }
    return ilg_body_new(out);
}

/* One argument of the probe: the method's name or token, or the return value (from
 * ret_local, boxed when it is a value; null for a void method). */
static ilg_status probe_arg(ilg_body *s, uint8_t arg, const ilg__plugin_env *env)
{
    ilg_status st;
    switch (arg) {
    case ILG__PARG_NAME:
        return ilg_body_append(s, ILG_OP_LDSTR, env->name_string);
    case ILG__PARG_TOKEN:
        return ilg_body_append(s, ILG_OP_LDC_I4, (int32_t)env->method_token);
    default:
        if (env->ret_null || env->ret_local == ILG_NO_LOCAL)
            return ilg_body_append(s, ILG_OP_LDNULL, 0);
        if (env->ret_local < 4)
            st = ilg_body_append(s, (ilg_opcode)(ILG_OP_LDLOC_0 + env->ret_local), 0);
        else
            st = ilg_body_append(s, env->ret_local < 256 ? ILG_OP_LDLOC_S : ILG_OP_LDLOC,
                                 env->ret_local);
        if (st == ILG_OK && env->box_token)
            st = ilg_body_append(s, ILG_OP_BOX, env->box_token);
        return st;
    }
}

/* The snippet `[arguments] call probe`. */
static ilg_status probe_snippet(const ilg__plugin_rule *rule, const ilg__plugin_env *env,
                                ilg_body **out, bool *made)
{
    ilg_body *s = NULL;
    ilg_status st = snippet_body(env, &s, made);
    if (st != ILG_OK)
        return st;
    for (uint8_t i = 0; i < rule->probe_argc && st == ILG_OK; i++)
        st = probe_arg(s, rule->probe_args[i], env);
    if (st == ILG_OK)
        st = ilg_body_append(s, ILG_OP_CALL, env->probe_token);
    if (st == ILG_OK)
        st = ilg_body_layout(s);
    if (st != ILG_OK) {
        if (*made)
            ilg_body_free(s);
        return st;
    }
    *out = s;
    return ILG_OK;
}

static ilg_status mutate(ilg_body *b, const ilg__plugin_rule *rule, const char **how)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->count; i++)
        if (b->instrs[i].op == (uint16_t)rule->from) {
            b->instrs[i].op = (uint16_t)rule->to;
            n++;
        }
    *how = n ? "substituted" : "no such opcode";
    return ILG_OK;
}

static ilg_status probe(ilg_body *b, const ilg__plugin_rule *rule, const ilg__plugin_env *env,
                        const char **how)
{
    ilg_body *s = NULL;
    bool made = false;
    if (!env->probe_token)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "probe %s not found in this module",
                         rule->probe);
    if (rule->action == ILG__ACT_PROBE_EXIT && env->returns_value && env->ret_local == ILG_NO_LOCAL)
        return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0,
                         "probe-exit %s: no local of the return type", rule->probe);
    ilg_status st = probe_snippet(rule, env, &s, &made);
    if (st != ILG_OK)
        return st;
    if (rule->action == ILG__ACT_PROBE_ENTRY) {
        st = ilg_body_insert_entry(b, s);
        *how = "entry";
    } else if (!env->returns_value) {
        st = ilg_body_wrap(b, ILG_EH_FINALLY, s, ILG_NO_LOCAL);
        *how = "try/finally";
    } else {
        st = ilg_body_wrap(b, ILG_EH_FINALLY, s, env->ret_local);
        *how = env->new_local ? "try/finally (a new local of the return type)"
                              : "try/finally (reusing a local of the return type)";
    }
    /* The arguments go on an empty stack (at the entry, in the handler): the body's
     * maxstack must hold them, since a fat body keeps its own (docs/profiler.md). */
    if (st == ILG_OK && b->max_stack < rule->probe_argc)
        b->max_stack = rule->probe_argc;
    if (made)
        ilg_body_free(s);
    return st;
}

static ilg_status replace(ilg_body *b, const ilg__plugin_rule *rule, const ilg__plugin_env *env,
                          const char **how)
{
    ilg_body *s = NULL;
    bool made = false;
    ilg_status st = snippet_body(env, &s, &made);
    if (st != ILG_OK)
        return st;
    st = ilg_body_assemble(s, rule->body, strlen(rule->body), NULL);
    if (st == ILG_OK)
        st = ilg_body_replace_all(b, s);
    /* The text's .locals, when it has them, replace the method's; without them the
     * method keeps its own (the text may use them). */
    if (st == ILG_OK && s->local_sig)
        ilg_body_set_locals(b, s->local_sig, s->init_locals);
    if (made)
        ilg_body_free(s);
    *how = "body";
    return st;
}

ilg_status ilg__plugin_apply(ilg_body *b, const ilg__plugin_rule *rule,
                             const ilg__plugin_env *env, const char **how)
{
    *how = "";
    switch (rule->action) {
    case ILG__ACT_IDENTITY:
        *how = "decode+encode";
        return ILG_OK;
    case ILG__ACT_MUTATE:
        return mutate(b, rule, how);
    case ILG__ACT_PROBE_ENTRY:
    case ILG__ACT_PROBE_EXIT:
        return probe(b, rule, env, how);
    case ILG__ACT_REPLACE:
        return replace(b, rule, env, how);
    }
    return ilg__fail(ILG_E_PROF_RULES, ILG_WHERE_NONE, 0, "action %d", (int)rule->action);
}
