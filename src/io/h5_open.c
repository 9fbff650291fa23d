/* h5_open.c - opening an output file for reading: the format name and
 * version check every reader (info, compare, export, report) shares, and
 * the scalar attribute readers it uses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/h5_open.h"

char *dg_h5_attr_text(hid_t obj, const char *name)
{
    hid_t attr = dg_h5_open_scalar_attr(obj, name);
    hid_t ftype = attr < 0 ? -1 : H5Aget_type(attr);
    char *text = NULL;
    if (ftype >= 0 && H5Tget_class(ftype) == H5T_STRING) {
        hid_t mtype = H5Tcopy(ftype);
        if (H5Tis_variable_str(ftype) > 0) {
            char *vl = NULL;
            if (mtype >= 0 && H5Aread(attr, mtype, &vl) >= 0 && vl) {
                text = strdup(vl);
                H5free_memory(vl);
            }
        } else {
            size_t size = H5Tget_size(ftype);
            text = calloc(size + 1, 1);
            if (text && (mtype < 0 || H5Aread(attr, mtype, text) < 0)) {
                free(text);
                text = NULL;
            }
        }
        if (mtype >= 0)
            H5Tclose(mtype);
    }
    if (ftype >= 0)
        H5Tclose(ftype);
    if (attr >= 0)
        H5Aclose(attr);
    return text;
}

int dg_h5_attr_number(hid_t obj, const char *name, hid_t mtype, void *value)
{
    hid_t attr = dg_h5_open_scalar_attr(obj, name);
    herr_t st = attr < 0 ? -1 : H5Aread(attr, mtype, value);
    if (attr >= 0)
        H5Aclose(attr);
    return st < 0 ? DG_FAIL : DG_OK;
}

static int check_format(hid_t file, const char *path, dg_err *err)
{
    char *format = dg_h5_attr_text(file, "format");
    int same = format && strcmp(format, DG_FORMAT_NAME) == 0;
    free(format);
    if (!same)
        return dg_failc(err, DG_E_INPUT, "%s: not a dupgraph output file (no format = \"%s\" attribute)", path, DG_FORMAT_NAME);
    int version = 0;
    if (dg_h5_attr_number(file, "format_version", H5T_NATIVE_INT, &version) != DG_OK)
        return dg_failc(err, DG_E_INPUT, "%s: dupgraph output file without a format_version", path);
    if (version < DG_FORMAT_VERSION_MIN || version > DG_FORMAT_VERSION)
        return dg_failc(err, DG_E_INPUT, "%s: dupgraph output format version %d, this program reads versions %d to %d", path,
                       version, DG_FORMAT_VERSION_MIN, DG_FORMAT_VERSION);
    return DG_OK;
}

/* Opens an output file read-only (serial) after checking its format. */
hid_t dg_h5_open_output(const char *path, dg_err *err)
{
    char detail[256];
    struct stat st;
    if (stat(path, &st) != 0) {
        dg_failc(err, DG_E_INPUT, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (H5Fis_hdf5(path) <= 0) {
        dg_failc(err, DG_E_INPUT, "%s: not an HDF5 file", path);
        return -1;
    }
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        dg_failc(err, DG_E_INPUT, "%s: cannot open (%s)", path, dg_h5_detail(detail, sizeof detail));
        return -1;
    }
    if (check_format(file, path, err) != DG_OK) {
        H5Fclose(file);
        return -1;
    }
    return file;
}
