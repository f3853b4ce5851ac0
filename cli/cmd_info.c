/* cmd_info.c: `ilgraft info IMAGE`: format, machine, base, span, sections or
 * segments, and for .NET images the CLI header and a metadata summary. */

#include "cli.h"
#include "ilgraft/metadata.h"

static void help(void)
{
    printf("usage: ilgraft info [--json] IMAGE\n\n"
           "Shows the image format, machine, mapped base, span, entry point, each section\n"
           "(PE) or PT_LOAD segment and section header (ELF), and for .NET images the CLI\n"
           "header, metadata version, stream sizes and table row counts.\n\n"
           "  --json   one JSON object instead of text\n"
           "  --help   this text\n");
}

static const char *cli_flag_names(uint32_t f, char *buf, size_t size)
{
    static const struct { uint32_t bit; const char *name; } names[] = {
        { 0x1, "ILONLY" }, { 0x2, "32BITREQUIRED" }, { 0x4, "IL_LIBRARY" },
        { 0x8, "STRONGNAMESIGNED" }, { 0x10, "NATIVE_ENTRYPOINT" },
        { 0x10000, "TRACKDEBUGDATA" }, { 0x20000, "32BITPREFERRED" },
    };
    size_t len = 0;
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (f & names[i].bit)
            len += (size_t)snprintf(buf + len, len < size ? size - len : 0, "%s%s",
                                    len ? " " : "", names[i].name);
    return buf;
}

static json_t *regions_json(const ilg_image *img, const ilg_image_info *in)
{
    json_t *arr = json_array();
    for (uint32_t i = 0; i < in->region_count; i++) {
        ilg_region r;
        char prot[4];
        ilg_image_region(img, i, &r);
        cli_prot_text(r.prot, prot);
        json_array_append_new(arr, json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:s}", "name", r.name,
                                             "rva", cli_json_u64(r.rva), "virtual_size",
                                             cli_json_u64(r.virtual_size), "file_offset",
                                             cli_json_u64(r.file_offset), "file_size",
                                             cli_json_u64(r.file_size), "flags",
                                             cli_json_u64(r.flags), "prot", prot));
    }
    return arr;
}

static json_t *metadata_json(const ilg_md_info *mi)
{
    char flags[128], runtime[16];
    snprintf(runtime, sizeof runtime, "%u.%u", mi->runtime_major, mi->runtime_minor);
    json_t *streams = json_array(), *tables = json_object();
    for (uint32_t i = 0; i < mi->stream_count; i++)
        json_array_append_new(streams, json_pack("{s:s, s:o, s:I, s:o}", "name", mi->streams[i].name,
                                                 "offset", cli_json_u64(mi->streams[i].offset), "size",
                                                 (json_int_t)mi->streams[i].size, "file_offset",
                                                 cli_json_u64(mi->streams[i].file_offset)));
    for (int t = 0; t < ILG_TBL_COUNT; t++)
        if (mi->rows[t])
            json_object_set_new(tables, ilg_md_table_name((ilg_table)t), json_integer(mi->rows[t]));
    return json_pack("{s:s, s:o, s:o, s:s, s:o, s:s, s:o, s:I, s:o, s:s, s:s, s:o, s:o}",
                     "runtime_version", runtime,
                     "cli_flags", cli_json_u64(mi->cli_flags),
                     "entry_point", cli_json_u64(mi->entry_point),
                     "cli_flag_names", cli_flag_names(mi->cli_flags, flags, sizeof flags),
                     "metadata_rva", cli_json_u64(mi->metadata_rva),
                     "version", mi->version,
                     "metadata_file_offset", cli_json_u64(mi->metadata_file_offset),
                     "metadata_size", (json_int_t)mi->metadata_size,
                     "ready_to_run", json_boolean(mi->managed_native_header_size != 0),
                     "tables_stream", mi->uncompressed ? "#-" : "#~",
                     "heap_sizes", mi->heap_sizes & 7 ? "wide" : "narrow",
                     "streams", streams, "tables", tables);
}

static int print_info_json(const char *path, ilg_image *img, const ilg_image_info *in,
                           const ilg_md_info *mi)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:I, s:o, s:o, s:o}",
                          "path", path, "format", in->format_name, "machine",
                          cli_json_u64(in->machine), "machine_name", in->machine_name, "base",
                          cli_json_u64((uintptr_t)in->base), "preferred_base",
                          cli_json_u64(in->preferred_base), "image_size",
                          cli_json_u64(in->image_size), "file_size", (json_int_t)in->file_size,
                          "entry_rva", cli_json_u64(in->entry_rva), "arena_offset",
                          cli_json_u64(in->arena_offset), "arena_size",
                          cli_json_u64(in->arena_size));
    json_object_set_new(o, in->format <= ILG_FORMAT_PE32PLUS ? "sections" : "segments",
                        regions_json(img, in));
    if (in->format >= ILG_FORMAT_ELF32) {
        json_t *secs = json_array();
        for (uint32_t i = 0; i < ilg_image_elf_section_count(img); i++) {
            ilg_elf_section s;
            ilg_image_elf_section(img, i, &s);
            json_array_append_new(secs, json_pack("{s:s, s:I, s:o, s:o, s:o}", "name", s.name,
                                                  "type", (json_int_t)s.type, "rva",
                                                  cli_json_u64(s.rva), "file_offset",
                                                  cli_json_u64(s.file_offset), "size",
                                                  cli_json_u64(s.size)));
        }
        json_object_set_new(o, "sections", secs);
        json_object_set_new(o, "symbols", json_integer(ilg_image_symbol_count(img)));
    }
    if (mi)
        json_object_set_new(o, "cli", metadata_json(mi));
    return cli_print_json(o);
}

static void print_info_text(const char *path, ilg_image *img, const ilg_image_info *in,
                            const ilg_md_info *mi)
{
    printf("file:         %s\n", path);
    printf("format:       %s, machine 0x%x (%s)\n", in->format_name, in->machine, in->machine_name);
    printf("mapped base:  %p (preferred 0x%llx)\n", (void *)in->base,
           (unsigned long long)in->preferred_base);
    printf("image span:   0x%llx bytes (file 0x%llx bytes)\n", (unsigned long long)in->image_size,
           (unsigned long long)in->file_size);
    printf("entry point:  RVA 0x%llx\n", (unsigned long long)in->entry_rva);
    printf("arena:        offset 0x%llx, 0x%llx bytes reserved\n",
           (unsigned long long)in->arena_offset, (unsigned long long)in->arena_size);
    printf("\n%s:\n  %-10s %-10s %-10s %-10s %-10s %-10s %s\n",
           in->format <= ILG_FORMAT_PE32PLUS ? "sections" : "segments (PT_LOAD)", "name", "rva",
           "vsize", "file off", "file size", "flags", "prot");
    for (uint32_t i = 0; i < in->region_count; i++) {
        ilg_region r;
        char prot[4];
        ilg_image_region(img, i, &r);
        cli_prot_text(r.prot, prot);
        printf("  %-10s 0x%08llx 0x%08llx 0x%08llx 0x%08llx 0x%08x %s\n", r.name,
               (unsigned long long)r.rva, (unsigned long long)r.virtual_size,
               (unsigned long long)r.file_offset, (unsigned long long)r.file_size, r.flags, prot);
    }
    if (in->format >= ILG_FORMAT_ELF32)
        printf("\n%u section headers, %u symbols\n", ilg_image_elf_section_count(img),
               ilg_image_symbol_count(img));
    if (mi) {
        char flags[128];
        printf("\nCLI header:   RVA 0x%x, runtime %u.%u, flags 0x%x (%s), entry point 0x%08x%s\n",
               mi->cli_rva, mi->runtime_major, mi->runtime_minor, mi->cli_flags,
               cli_flag_names(mi->cli_flags, flags, sizeof flags), mi->entry_point,
               mi->managed_native_header_size ? ", ReadyToRun" : "");
        printf("metadata:     %s (root %u.%u) at RVA 0x%x, file offset 0x%llx, 0x%x bytes\n",
               mi->version, mi->md_major, mi->md_minor, mi->metadata_rva,
               (unsigned long long)mi->metadata_file_offset, mi->metadata_size);
        printf("streams:     ");
        for (uint32_t i = 0; i < mi->stream_count; i++)
            printf(" %s 0x%x", mi->streams[i].name, mi->streams[i].size);
        printf("\ntables (%s, heap sizes 0x%02x):\n", mi->uncompressed ? "#-" : "#~", mi->heap_sizes);
        int col = 0;
        for (int t = 0; t < ILG_TBL_COUNT; t++) {
            if (!mi->rows[t])
                continue;
            printf("  %-24s %8u%s", ilg_md_table_name((ilg_table)t), mi->rows[t],
                   ++col % 2 == 0 ? "\n" : "");
        }
        if (col % 2)
            printf("\n");
    }
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool json = false;
    int c;
    while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
        if (c == 'j')
            json = true;
        else if (c == 'h') {
            help();
            return CLI_OK;
        } else
            return cli_usage_error("info", "unknown option");
    }
    if (optind != argc - 1)
        return cli_usage_error("info", "expected one IMAGE");
    const char *path = argv[optind];
    cli_json_errors(json);

    ilg_image *img;
    ilg_image_info in;
    ilg_status st = ilg_image_open(path, NULL, &img);
    if (st != ILG_OK)
        return cli_fail(path, st);
    ilg_image_get_info(img, &in);

    const ilg_metadata *md = NULL;
    ilg_md_info mi;
    ilg_status mst = in.has_cli ? ilg_image_metadata(img, &md) : ILG_E_CLI_ABSENT;
    if (in.has_cli && mst != ILG_OK) {
        int rc = cli_fail(path, mst);
        ilg_image_close(img);
        return rc;
    }
    if (md)
        ilg_md_get_info(md, &mi);

    int rc = CLI_OK;
    if (json)
        rc = print_info_json(path, img, &in, md ? &mi : NULL);
    else
        print_info_text(path, img, &in, md ? &mi : NULL);
    ilg_image_close(img);
    return rc;
}
