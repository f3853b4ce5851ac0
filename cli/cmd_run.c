/* cmd_run.c: `ilgraft run`: loads a CLR profiler into the harness host, runs images
 * through it (load, JIT and unload callbacks) and reports what it did to each method
 * body; --isolate runs the session in a child so a crash or hang is only reported. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "ilgraft/host.h"
#include "ilgraft/save.h"

static void help(void)
{
    printf("usage: ilgraft run [--profiler PATH --clsid {GUID}] [OPTIONS] IMAGE...\n"
           "       ilgraft run --rules FILE [OPTIONS] IMAGE...\n\n"
           "Plays the CLR for a profiler library: DllGetClassObject, CreateInstance,\n"
           "Initialize with ICorProfilerInfo3, then for each IMAGE the AppDomain, assembly\n"
           "and module load callbacks, JITCompilationStarted/Finished for every method with\n"
           "IL, the unload callbacks and Shutdown. Bodies set with SetILFunctionBody are\n"
           "verified; the report lists every rewritten or rejected method. Every IMAGE\n"
           "(and the --save directory) is checked before the profiler is loaded.\n\n"
           "  --profiler PATH   the profiler library (default, as CoreCLR: with\n"
           "                    CORECLR_ENABLE_PROFILING=1, $CORECLR_PROFILER_PATH_64, else\n"
           "                    $CORECLR_PROFILER_PATH; with rules and neither, ilgraft's\n"
           "                    own plugin, found beside ilgraft)\n"
           "  --clsid GUID      its CLSID, braces optional (default: $CORECLR_PROFILER, or\n"
           "                    the plugin's for the plugin found beside ilgraft)\n"
           "  --methods PAT     JIT only methods whose Namespace.Type::Method matches PAT\n"
           "  --json            the report as JSON (every method)\n"
           "  --summary         only each module's counts and the rejected methods\n"
           "  --trace           log every callback and every call into the host on stderr\n"
           "  --jit-threads N   deliver each image's JIT callbacks from N threads at\n"
           "                    once, as CoreCLR does when several threads compile (1 to\n"
           "                    %d; default 1: one thread, MethodDef order, repeatable).\n"
           "                    The profiler must be thread-safe; the results are the\n"
           "                    same, the order of new bodies in the arena is not\n"
           "  --recompile       compile methods again as CoreCLR does: an OSR pass for\n"
           "                    methods with loops, a tier-1 pass for every tiered method,\n"
           "                    a second FunctionID for each generic method; the report\n"
           "                    flags bodies rewritten again on recompile\n"
           "  --strict-rejit    ReJIT protocol warnings are errors (docs/profiler.md, ReJIT)\n"
           "  --recompile-strict\n"
           "                    --recompile, and such bodies are rejected (exit 1)\n"
           "  --inline          model the JIT's inlining: JITInlining for each call site\n"
           "                    of a compiled method whose callee CoreCLR always inlines\n"
           "                    (docs/profiler.md, \"Inlining\"); a refusal keeps the call;\n"
           "                    the report warns of inliners left with a callee's old body\n"
           "  --rules FILE      the rules file of ilgraft's own plugin (sets ILGRAFT_RULES\n"
           "                    for the profiler, as under CoreCLR)\n"
           "  --save DIR        write every image into DIR (which must exist) under its\n"
           "                    own name: rewritten bodies as a new last section,\n"
           "                    patched MethodDef RVAs, a new MVID; a module's\n"
           "                    .runtimeconfig.json and .deps.json are copied beside it\n"
           "                    (docs/save.md). ReadyToRun images keep the precompiled\n"
           "                    code of the methods not rewritten (nor inlining a\n"
           "                    rewritten one)\n"
           "  --keep-mvid       with --save: keep each module's MVID (a runtime that\n"
           "                    caches native code by MVID then runs the old code)\n"
           "  --save-r2r-off    with --save: make the runtime ignore all precompiled code\n"
           "                    of saved ReadyToRun images instead\n"
           "  --keep-old-root   with --save: keep the whole old metadata root of a module\n"
           "                    whose metadata was written (its pages are left out)\n"
           "  --isolate         run the profiler in a child process\n"
           "  --timeout MS      with --isolate: kill the child after MS milliseconds\n"
           "                    (default 30000)\n"
           "  --help            this text\n\n"
           "Exit status: 0 when the session ran (rejected bodies are reported, not errors),\n"
           "1 when the profiler failed to load, crashed or hung, an image is bad, or\n"
           "--recompile-strict rejected a body.\n",
           ILG_HOST_MAX_JIT_THREADS);
}

typedef struct run_args {
    const char *profiler, *clsid, *methods, *save_dir;
    bool json, summary, trace, recompile, recompile_strict, keep_mvid, r2r_off, strict_rejit,
        keep_root, inlining;
    unsigned jit_threads;
    char **images;
    size_t image_count;
} run_args;

static int run_session(void *ctx)
{
    const run_args *a = ctx;
    /* The report of a large assembly is megabytes: written 64 KiB at a time instead of
     * stdio's 4 KiB for a file (900 write calls for mscorlib's). */
    static char out_buf[1 << 16];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, out_buf, _IOFBF, sizeof out_buf);
    ilg_host_options opts = { .methods_pattern = a->methods, .log = stderr, .trace = a->trace,
                              .jit_threads = a->jit_threads, .recompile = a->recompile,
                              .recompile_strict = a->recompile_strict,
                              .strict_rejit = a->strict_rejit,
                              .inlining = a->inlining };
    ilg_host *host = NULL;
    ilg_status st;
    int rc = CLI_OK;

    if ((st = ilg_host_new(&opts, &host)) != ILG_OK)
        return cli_fail("host", st);
    if ((st = ilg_host_load_profiler(host, a->profiler, a->clsid)) != ILG_OK) {
        rc = cli_fail(a->profiler, st);
        goto done;
    }
    if ((st = ilg_host_run(host, (const char *const *)a->images, a->image_count)) != ILG_OK) {
        /* The host stops at the image it could not open: the one after those it ran. */
        uint32_t ran = ilg_host_module_count(host);
        cli_fail_line(ran < a->image_count ? a->images[ran] : "run", st);
        rc = CLI_BAD_INPUT;
    }
    /* From here the report is the JSON document: failures go to stderr only. */
    if ((st = ilg_host_write_report(host,
                                     a->json      ? ILG_REPORT_JSON
                                     : a->summary ? ILG_REPORT_SUMMARY
                                                  : ILG_REPORT_TEXT,
                                     stdout)) != ILG_OK) {
        cli_fail_line("report", st);
        rc = CLI_BAD_INPUT;
    }
    if (rc == CLI_OK && a->save_dir) {
        ilg_save_options so = { .log = stderr, .keep_mvid = a->keep_mvid,
                                .r2r_disable = a->r2r_off, .keep_old_root = a->keep_root };
        fflush(stdout); /* the report before the save's lines, also in a pipe */
        if ((st = ilg_host_save(host, a->save_dir, &so, NULL)) != ILG_OK) {
            cli_fail_line(a->save_dir, st);
            rc = CLI_BAD_INPUT;
        }
    }
done:
    ilg_host_free(host);
    fflush(stdout);
    return rc;
}

/* After the options: the profiler (ours when only rules are given), then everything the
 * session needs, checked before the profiler is loaded so that a bad input is named now,
 * not after a session whose results could not be saved. */
static int prepare(run_args *a, const char *rules, char *bundled, size_t size)
{
    /* Neither named: the profiler CoreCLR would load (CORECLR_ENABLE_PROFILING on). */
    const bool named = a->profiler || a->clsid;
    const bool from_env = !named && ilg_host_env_profiling_enabled();
    if (!a->profiler && (named || from_env))
        a->profiler = ilg_host_env_profiler_path();
    /* Rules and no profiler named: ilgraft's own plugin, the one that reads them. */
    const bool own_plugin = !a->profiler && (rules || getenv("ILGRAFT_RULES"));
    if (own_plugin) {
        if (!cli_bundled_plugin(bundled, size))
            return cli_error(bundled, ILG_E_NOT_FOUND,
                             "ilgraft's plugin is not beside ilgraft; name one with --profiler");
        a->profiler = bundled;
    }
    if (!a->clsid)
        a->clsid = own_plugin ? CLI_PLUGIN_CLSID
                   : named || from_env ? getenv("CORECLR_PROFILER") : NULL;
    if (!a->profiler || !a->clsid)
        return cli_usage_error("run", "needs --profiler and --clsid (or CORECLR_ENABLE_PROFILING=1, "
                                      "CORECLR_PROFILER and CORECLR_PROFILER_PATH(_64)), or "
                                      "--rules FILE for ilgraft's plugin");
    if (from_env && a->clsid[0] != '{')
        return cli_usage_error("run", "CORECLR_PROFILER '%s' needs braces, as CoreCLR does",
                               a->clsid);
    if (!a->image_count)
        return cli_usage_error("run", "no IMAGE given");
    if (rules && access(rules, R_OK) != 0)
        return cli_error(rules, ILG_E_IO, "cannot read the rules file: %s", strerror(errno));
    /* --save reads a ReadyToRun image's tables to keep or drop its precompiled code. */
    int rc = cli_check_images(a->images, a->image_count, a->save_dir != NULL);
    if (rc == CLI_OK && a->save_dir)
        rc = cli_check_output_dir("--save", a->save_dir, a->images, a->image_count);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {
        { "profiler", required_argument, NULL, 'p' },
        { "clsid", required_argument, NULL, 'c' },
        { "methods", required_argument, NULL, 'm' },
        { "json", no_argument, NULL, 'j' },
        { "summary", no_argument, NULL, 'S' },
        { "trace", no_argument, NULL, 't' },
        { "save", required_argument, NULL, 's' },
        { "keep-mvid", no_argument, NULL, 'K' },
        { "save-r2r-off", no_argument, NULL, 'O' },
        { "keep-old-root", no_argument, NULL, 'L' },
        { "rules", required_argument, NULL, 'r' },
        { "isolate", no_argument, NULL, 'i' },
        { "timeout", required_argument, NULL, 'T' },
        { "jit-threads", required_argument, NULL, 'J' },
        { "recompile", no_argument, NULL, 'R' },
        { "recompile-strict", no_argument, NULL, 'X' },
        { "strict-rejit", no_argument, NULL, 'Z' },
        { "inline", no_argument, NULL, 'I' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    run_args a = { 0 };
    const char *rules = NULL;
    char bundled[PATH_MAX];
    bool isolate = false;
    uint64_t timeout = 30000;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "p:c:m:jSts:Kr:iT:J:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p': a.profiler = optarg; break;
        case 'r':
            /* The plugin reads its rules from the environment, in the host as in CoreCLR. */
            if (setenv("ILGRAFT_RULES", optarg, 1) != 0)
                return cli_usage_error("run", "cannot set ILGRAFT_RULES");
            rules = optarg;
            break;
        case 'c': a.clsid = optarg; break;
        case 'm': a.methods = optarg; break;
        case 'j': a.json = true; break;
        case 'S': a.summary = true; break;
        case 't': a.trace = true; break;
        case 's': a.save_dir = optarg; break;
        case 'K': a.keep_mvid = true; break;
        case 'O': a.r2r_off = true; break;
        case 'L': a.keep_root = true; break;
        case 'i': isolate = true; break;
        case 'R': a.recompile = true; break;
        case 'X': a.recompile_strict = true; break;
        case 'Z': a.strict_rejit = true; break;
        case 'I': a.inlining = true; break;
        case 'T':
            if (!cli_parse_u64(optarg, &timeout) || timeout > 86400000u)
                return cli_usage_error("run", "bad --timeout '%s'", optarg);
            break;
        case 'J': {
            uint64_t n = 0;
            if (!cli_parse_u64(optarg, &n) || n < 1 || n > ILG_HOST_MAX_JIT_THREADS)
                return cli_usage_error("run", "bad --jit-threads '%s' (1 to %d)", optarg,
                                       ILG_HOST_MAX_JIT_THREADS);
            a.jit_threads = (unsigned)n;
            break;
        }
        case 'h': help(); return CLI_OK;
        default: return cli_usage_error("run", "unknown option");
        }
    }
    cli_json_errors(a.json);
    if (a.keep_mvid && !a.save_dir)
        return cli_usage_error("run", "--keep-mvid needs --save");
    if (a.r2r_off && !a.save_dir)
        return cli_usage_error("run", "--save-r2r-off needs --save");
    if (a.keep_root && !a.save_dir)
        return cli_usage_error("run", "--keep-old-root needs --save");
    a.images = argv + optind;
    a.image_count = optind < argc ? (size_t)(argc - optind) : 0;
    int rc = prepare(&a, rules, bundled, sizeof bundled);
    if (rc != CLI_OK)
        return rc;

    if (!isolate)
        return run_session(&a);

    ilg_isolate_result res;
    ilg_status st = ilg_isolate_run(run_session, &a, (unsigned)timeout, &res);
    if (st != ILG_OK)
        return cli_fail("isolate", st);
    if (res.exited)
        return res.exit_code;
    if (res.timed_out)
        fprintf(stderr,
                "ilgraft: %s: profiler hung: killed with signal %d (SIGKILL) after "
                "%llu ms (last callback: %s)\n",
                a.profiler, SIGKILL, (unsigned long long)timeout,
                res.last_callback[0] ? res.last_callback : "none");
    else
        fprintf(stderr, "ilgraft: %s: profiler crashed: signal %d (%s) (last callback: %s)\n",
                a.profiler, res.signal, strsignal(res.signal),
                res.last_callback[0] ? res.last_callback : "none");
    return CLI_BAD_INPUT;
}
