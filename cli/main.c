/* main.c: the ilgraft command-line tool: dispatches to one command per file. */
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    { "info", cmd_info, "format, machine, sections or segments, CLI header and metadata summary" },
    { "methods", cmd_methods, "one row per MethodDef: token, name, RVA, header, sizes, EH clauses" },
    { "dis", cmd_dis, "method bodies in ilasm syntax, or native code with --native" },
    { "verify", cmd_verify, "decode and verify every method body; list every finding" },
    { "roundtrip", cmd_roundtrip, "decode, verify and re-encode every body (preserve, optimize)" },
    { "run", cmd_run, "load a CLR profiler and run images through it (JIT, SetILFunctionBody)" },
    { "map", cmd_map, "the address-space layout: image, sections or segments, graft arena" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: ilgraft COMMAND [OPTIONS] IMAGE...\n\n"
                 "Inspect PE and ELF images and their CLR metadata, method bodies and offsets.\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'ilgraft COMMAND --help' describes a command. --version prints the version.\n"
                 "Exit status: 0 success, 1 bad input, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ilgraft %s\n", ilg_version());
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "ilgraft: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
