#!/usr/bin/env bash
# Downloads the official CIFAR-10 binary archive, checks its MD5 and unpacks it, for users
# without ../shared/data (see ../shared/data/README.md for the offline copy).
#
#   tools/download_cifar10.sh [DIR]     (default DIR: ./.data/cifar10)
#   -> DIR/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin; pass --data DIR
# CIFAR10_URL overrides the address (a mirror); the MD5 check still applies.
set -euo pipefail

URL="${CIFAR10_URL:-https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz}"
MD5="c32a1d4ab5d03f1284b67883e8d87530"
DIR="${1:-./.data/cifar10}"
ARCHIVE="$DIR/cifar-10-binary.tar.gz"

die() { echo "download_cifar10.sh: error: $*" >&2; exit 1; }
trap 'rm -f "$ARCHIVE.part"' EXIT  # never leave a partial download behind

# Already there: nothing to do.
if [ -f "$DIR/cifar-10-batches-bin/data_batch_5.bin" ] && [ -f "$DIR/cifar-10-batches-bin/test_batch.bin" ]; then
  echo "CIFAR-10 is already in $DIR/cifar-10-batches-bin/"
  echo "pass: --data $DIR"
  exit 0
fi

command -v tar >/dev/null 2>&1 || die "tar is not installed"
if command -v md5sum >/dev/null 2>&1; then
  md5_of() { md5sum "$1" | cut -d' ' -f1; }
elif command -v md5 >/dev/null 2>&1; then  # macOS
  md5_of() { md5 -q "$1"; }
else
  die "neither md5sum nor md5 is installed; cannot verify the download"
fi

mkdir -p "$DIR" || die "cannot create $DIR"

if [ -f "$ARCHIVE" ] && [ "$(md5_of "$ARCHIVE")" = "$MD5" ]; then
  echo "using the archive already downloaded: $ARCHIVE"
else
  rm -f "$ARCHIVE.part"
  echo "downloading $URL (about 162 MB) to $ARCHIVE"
  if command -v curl >/dev/null 2>&1; then
    curl -fL --retry 2 --connect-timeout 20 -o "$ARCHIVE.part" "$URL" ||
      die "curl could not download $URL (no network, or the server is unreachable). Without internet, use the copy described in ../shared/data/README.md"
  elif command -v wget >/dev/null 2>&1; then
    wget --tries=2 --timeout=20 -O "$ARCHIVE.part" "$URL" ||
      die "wget could not download $URL (no network, or the server is unreachable). Without internet, use the copy described in ../shared/data/README.md"
  else
    die "neither curl nor wget is installed; install one (apt-get install -y curl) or download $URL by hand into $DIR"
  fi
  got="$(md5_of "$ARCHIVE.part")"
  if [ "$got" != "$MD5" ]; then
    rm -f "$ARCHIVE.part"
    die "MD5 mismatch for $URL: got $got, expected $MD5 (corrupt or incomplete download; run again)"
  fi
  mv "$ARCHIVE.part" "$ARCHIVE"
fi

tar -xzf "$ARCHIVE" -C "$DIR" || die "cannot unpack $ARCHIVE into $DIR"
[ -f "$DIR/cifar-10-batches-bin/test_batch.bin" ] || die "$ARCHIVE did not contain cifar-10-batches-bin/test_batch.bin"
rm -f "$ARCHIVE"

echo "CIFAR-10 is in $DIR/cifar-10-batches-bin/"
echo "pass: --data $DIR"
