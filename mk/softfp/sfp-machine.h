/*
 * sfp-machine.h — lets glibc's soft-fp routines (third_party/softfp-glibc-*)
 * build outside glibc, for the soft-float mipsel sysroot (tools/musl-softfloat.sh).
 * Outside glibc, soft-fp.h includes "sfp-machine.h" and expects it to define the
 * byte order and strong_alias(); the MIPS o32 definitions themselves are glibc's,
 * found next on the include path.
 */
#include <endian.h>

#define strong_alias(name, aliasname) \
	extern __typeof(name) aliasname __attribute__((alias(#name)));

#include_next <sfp-machine.h>
