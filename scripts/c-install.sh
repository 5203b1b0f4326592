#!/usr/bin/env bash
# make install PREFIX=/usr/local [DESTDIR=/staging]: what C users expect —
#   $PREFIX/lib/libapisig.a                 static library (host build, with std)
#   $PREFIX/lib/libapisig.so.MAJOR.MINOR.PATCH (+ .so.MAJOR, .so links; SONAME libapisig.so.MAJOR)
#   $PREFIX/include/apisig.h                the generated header
#   $PREFIX/lib/pkgconfig/apisig.pc         `pkg-config --cflags --libs apisig` (add --static
#                                           for the static library's system libraries)
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
LIBDIR=${LIBDIR:-$PREFIX/lib}
INCLUDEDIR=${INCLUDEDIR:-$PREFIX/include}
case "$PREFIX" in /*) ;; *) echo "PREFIX must be an absolute path (got $PREFIX)" >&2; exit 2 ;; esac

version=$(sed -n 's/^#define APISIG_VERSION_STRING "\(.*\)"/\1/p' include/apisig.h)
major=${version%%.*}
[ -n "$version" ] || { echo "no APISIG_VERSION_STRING in include/apisig.h" >&2; exit 1; }

echo "install: building apisig-ffi $version (release)"
cargo rustc -q -p apisig-ffi --lib --crate-type staticlib --release
cargo rustc -q -p apisig-ffi --lib --crate-type cdylib --release -- -C link-arg=-Wl,-soname,libapisig.so."$major"
private=$(cargo rustc -q -p apisig-ffi --lib --crate-type staticlib --release -- --print native-static-libs 2>&1 |
  sed -n 's/.*native-static-libs: //p' | tail -1)
[ -n "$private" ] || private="-lgcc_s -lutil -lrt -lpthread -lm -ldl -lc"

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$INCLUDEDIR"
install -m 644 target/release/libapisig_ffi.a "$DESTDIR$LIBDIR/libapisig.a"
install -m 755 target/release/libapisig_ffi.so "$DESTDIR$LIBDIR/libapisig.so.$version"
ln -sfn "libapisig.so.$version" "$DESTDIR$LIBDIR/libapisig.so.$major"
ln -sfn "libapisig.so.$major" "$DESTDIR$LIBDIR/libapisig.so"
install -m 644 include/apisig.h "$DESTDIR$INCLUDEDIR/apisig.h"
cat > "$DESTDIR$LIBDIR/pkgconfig/apisig.pc" <<PC
prefix=$PREFIX
libdir=$LIBDIR
includedir=$INCLUDEDIR

Name: apisig
Description: Sign and verify API requests (static and role keys, HMAC-signed requests, key rotation, replay protection) without malloc
Version: $version
Libs: -L\${libdir} -lapisig
Libs.private: $private
Cflags: -I\${includedir}
PC
echo "install: $DESTDIR$PREFIX (libapisig.a, libapisig.so.$version, apisig.h, apisig.pc)"
