/* A stand-in for Windows 10's bcryptprimitives.dll, for running the Windows plugin under Wine 8.0,
 * which lacks that DLL. Rust's std takes its random bytes (HashMap keys, ...) from `ProcessPrng`
 * there; this exports the same function over BCryptGenRandom with the system RNG, which Wine has.
 * The Windows tests put it next to their executables; real Windows never sees it (its own DLL
 * comes first from System32, a KnownDLL). Build: x86_64-w64-mingw32-gcc -shared -o
 * bcryptprimitives.dll bcryptprimitives.c -lbcrypt */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG chunk = len > 0x80000000u ? 0x80000000u : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
