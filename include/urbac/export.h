/* urbac/export.h - symbol visibility: only URBAC_EXTERN symbols leave the library. */
#ifndef URBAC_EXPORT_H
#define URBAC_EXPORT_H
#if defined(__GNUC__)
#define URBAC_EXTERN __attribute__((visibility("default")))
#else
#define URBAC_EXTERN
#endif
#endif
