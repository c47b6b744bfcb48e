#!/usr/bin/env bash
# Builds Ferry's tiny test guest from Debian packages: a Debian kernel, a busybox initramfs whose
# init prints "CNT <n> boot=<id>" on the serial console every 100 ms, and a qcow2 base image.
# Built once and cached; rebuilt when missing. See --help.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IMAGES_DIR=${FERRY_IMAGES:-$FERRY_STATE/images}
GUEST=$IMAGES_DIR/tiny

usage() {
  cat <<USAGE
Usage: ops/guest.sh [build|--force|path|--help]

  build    (default) build the guest into \$FERRY_IMAGES/tiny unless it is there already
  --force  rebuild it
  path     print the image folder

The image folder holds base.qcow2 (the disk every VM's copy-on-write overlay starts from),
min_memory_mib (the least memory it boots in), and, for direct kernel boot, kernel, initrd and
cmdline. Installs qemu-system-x86, qemu-utils,
busybox-static and cpio from Debian's packages if missing.
Settings: FERRY_IMAGES (default \$FERRY_STATE/images = $IMAGES_DIR).
USAGE
}

ensure_qemu() {
  local missing=()
  command -v qemu-system-x86_64 >/dev/null || missing+=(qemu-system-x86)
  command -v qemu-img >/dev/null || missing+=(qemu-utils)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v cpio >/dev/null || missing+=(cpio)
  install_packages "${missing[@]}"
}

build() {
  ensure_qemu
  local work; work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  say "building the tiny guest into $GUEST"
  local kpkg
  kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  if [ -z "$kpkg" ]; then
    apt-get update -qq
    kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/{print $2; exit}')
  fi
  [ -n "$kpkg" ] || die "cannot find Debian's cloud kernel package (apt-cache depends linux-image-cloud-amd64)"
  (cd "$work" && apt-get download -qq "$kpkg") || die "apt-get download $kpkg failed"
  dpkg -x "$work"/"$kpkg"_*.deb "$work/kernel"

  local root=$work/initramfs
  mkdir -p "$root"/{bin,dev,proc,sys}
  cp /bin/busybox "$root/bin/busybox"
  cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
BOOT=$(cut -c1-8 /proc/sys/kernel/random/uuid)
echo "FERRY-GUEST booted boot=$BOOT"
n=0
while true; do
  echo "CNT $n boot=$BOOT"
  n=$((n+1))
  usleep 100000
done
INIT
  chmod +x "$root/init"
  mkdir -p "$GUEST.tmp"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$GUEST.tmp/initrd"
  cp "$work"/kernel/boot/vmlinuz-* "$GUEST.tmp/kernel"
  echo "console=ttyS0 quiet panic=-1" > "$GUEST.tmp/cmdline"
  # Measured: 96 MiB is the least this kernel boots in (64 MiB resets); the driver refuses less.
  echo 96 > "$GUEST.tmp/min_memory_mib"
  qemu-img create -q -f qcow2 "$GUEST.tmp/base.qcow2" 64M
  echo "tiny guest from $kpkg and busybox $(/bin/busybox | head -1 | awk '{print $2}'); prints 'CNT <n> boot=<id>' on ttyS0" > "$GUEST.tmp/README"
  rm -rf "$GUEST"
  mv "$GUEST.tmp" "$GUEST"
  say "tiny guest ready: $GUEST ($(du -sh "$GUEST" | cut -f1))"
}

case "${1:-build}" in
  build) if [ -f "$GUEST/base.qcow2" ] && [ -f "$GUEST/kernel" ] && [ -f "$GUEST/initrd" ] && [ -f "$GUEST/min_memory_mib" ]; then ensure_qemu; else build; fi ;;
  --force) build ;;
  path) echo "$GUEST" ;;
  -h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
