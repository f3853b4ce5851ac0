/* host_save.c: ilg_host_save (ilgraft/host.h), the glue between a host session and the
 * image writer (ilgraft/save.h): every module the host ran goes through ilg_save_write,
 * with the application files dotnet reads beside it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ilgraft/save.h"

#include "host_private.h"

/* Copies src to dst (through a temporary name beside it, renamed, like a saved image). */
static ilg_status copy_file(const char *src, const char *dst)
{
    char tmp[PATH_MAX], buf[65536];
    int in = -1, out = -1;
    ilg_status st = ILG_OK;

    if (snprintf(tmp, sizeof tmp, "%s.ilgsave.%d", dst, (int)getpid()) >= (int)sizeof tmp)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", dst);
    if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot read %s: %s", src, strerror(errno));
        goto out;
    }
    if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    for (;;) {
        ssize_t r = read(in, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot read %s: %s", src, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        for (ssize_t done = 0; done < r;) {
            ssize_t w = write(out, buf + done, (size_t)(r - done));
            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write %s: %s", tmp,
                               strerror(errno));
                goto out;
            }
            done += w;
        }
    }
    int rc = close(out);
    out = -1;
    if (rc != 0 || rename(tmp, dst) != 0)
        st = ilg__fail(ILG_E_IO, ILG_WHERE_NONE, 0, "cannot write %s: %s", dst, strerror(errno));
out:
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (st != ILG_OK)
        unlink(tmp);
    return st;
}

/* What dotnet reads beside an application's main assembly (its host needs the
 * runtimeconfig to start it at all): copied with the image, so that the saved
 * directory runs as the input's did. */
static const char *const app_file_suffixes[] = { ".runtimeconfig.json", ".deps.json" };

/* Copies STEM.runtimeconfig.json and STEM.deps.json from beside in_path into dir when
 * they are regular files there; STEM is the image's file name without its extension. */
static ilg_status copy_app_files(const char *in_path, const char *dir, FILE *log)
{
    char copy[PATH_MAX], src[PATH_MAX], dst[PATH_MAX];
    struct stat sb;
    if (snprintf(copy, sizeof copy, "%s", in_path) >= (int)sizeof copy)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", in_path);
    char *dot = strrchr(copy, '.'), *slash = strrchr(copy, '/');
    if (dot && (!slash || dot > slash + 1))
        *dot = 0;
    const char *stem = slash ? slash + 1 : copy;
    for (size_t i = 0; i < ILG_ARRAY_LEN(app_file_suffixes); i++) {
        if (snprintf(src, sizeof src, "%s%s", copy, app_file_suffixes[i]) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/%s%s", dir, stem, app_file_suffixes[i]) >=
                (int)sizeof dst)
            return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", in_path);
        if (stat(src, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        ilg_status st = copy_file(src, dst);
        if (st != ILG_OK)
            return st;
        fprintf(log, "ilgraft: copied %s\n", dst);
    }
    return ILG_OK;
}

/* An MVID as stored in #GUID (Data1, Data2, Data3 little-endian) in registry form. */
static char *mvid_text(const uint8_t b[16], char buf[ILG_GUID_TEXT_SIZE])
{
    GUID g = { ilg__rd32(b), ilg__rd16(b + 4), ilg__rd16(b + 6), { 0 } };
    memcpy(g.Data4, b + 8, sizeof g.Data4);
    return ilg_guid_format(&g, buf);
}

ilg_status ilg_host_save(ilg_host *host, const char *dir, const ilg_save_options *opts,
                         uint32_t *written)
{
    FILE *log = opts && opts->log ? opts->log : stderr;
    ilg_save_method *list = NULL;
    uint32_t done = 0;
    ilg_status st = ILG_OK;

    if (!host || !dir)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "NULL host or directory");
    if (!host->ran)
        return ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "the host has not run yet");
    for (uint32_t i = 0; i < host->module_count; i++) {
        host_module *m = host->modules[i];
        char path_copy[PATH_MAX], out_path[PATH_MAX];
        ilg_save_result r;
        size_t n = 0;

        if (snprintf(path_copy, sizeof path_copy, "%s", m->path) >= (int)sizeof path_copy ||
            snprintf(out_path, sizeof out_path, "%s/%s", dir, basename(path_copy)) >=
                (int)sizeof out_path) {
            st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0, "path too long: %s", m->path);
            goto out;
        }
        char *in_real = realpath(m->path, NULL), *out_real = realpath(out_path, NULL);
        bool same = in_real && out_real && strcmp(in_real, out_real) == 0;
        free(in_real);
        free(out_real);
        if (same) {
            st = ilg__fail(ILG_E_INVALID_ARG, ILG_WHERE_NONE, 0,
                           "%s would overwrite its own input", out_path);
            goto out;
        }
        free(list);
        const uint32_t total = m->method_count + atomic_load(&m->added_count);
        list = calloc(total ? total : 1, sizeof *list);
        if (!list) {
            st = ilg__fail(ILG_E_NOMEM, ILG_WHERE_NONE, 0, "no memory for %u methods",
                           m->method_count);
            goto out;
        }
        for (uint32_t rid = 1; rid <= total; rid++) {
            const host_method *hm = ilg__host_method_at(m, rid);
            /* The body in force: a ReJIT version's, else the one SetILFunctionBody set
             * (RequestRevert gives back the one before the ReJIT). */
            const uint64_t cur = atomic_load_explicit(&hm->current, memory_order_acquire);
            const uint32_t rva = (uint32_t)(cur >> 32), size = (uint32_t)cur;
            if (cur && rva != hm->old_rva)
                list[n++] = (ilg_save_method){ rid, rva, size };
        }
        if ((st = ilg_save_write(m->img, list, n, opts, out_path, &r)) != ILG_OK) {
            ilg__fail_context("saving %s", out_path);
            goto out;
        }
        done++;
        if (r.section_added) {
            fprintf(log,
                    "ilgraft: saved %s: %u methods patched, section %s at RVA 0x%x "
                    "(0x%x bytes, file offset 0x%x), MVID %s%s",
                    out_path, r.methods_patched, ILG_SAVE_SECTION_NAME, r.section_rva,
                    r.section_vsize, r.section_file_offset,
                    mvid_text(r.mvid, (char[ILG_GUID_TEXT_SIZE]){ 0 }),
                    r.mvid_changed ? "" : " (kept)");
            if (r.old_root_cut_size)
                fprintf(log, ", old metadata root's pages left out: %u bytes at RVA 0x%x",
                        r.old_root_cut_size, r.old_root_cut_rva);
            fprintf(log, ", %zu bytes\n", r.file_size);
        } else
            fprintf(log, "ilgraft: saved %s: unchanged copy\n", out_path);
        if ((st = copy_app_files(m->path, dir, log)) != ILG_OK)
            goto out;
    }
out:
    free(list);
    if (written)
        *written = done;
    return st;
}
