# Shared settings for the real-kernel test bed (sourced by prepare, run, runner).
# The VM boots Debian's stock kernel under qemu (software emulation), because the
# host kernel of our development machines has no IPVS and cannot load modules.

set -euo pipefail

VM_SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORKSPACE_DIR=$(cd "$VM_SRC_DIR/../.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$WORKSPACE_DIR/target}
mkdir -p "$TARGET_DIR"
TARGET_DIR=$(cd "$TARGET_DIR" && pwd)
VM_DIR=$TARGET_DIR/vm

# Host tools the bed needs, as "command:debian-package".
VM_HOST_TOOLS=(
  qemu-system-x86_64:qemu-system-x86
  cpio:cpio
  depmod:kmod
  modprobe:kmod
  ip:iproute2
  dpkg-deb:dpkg
  apt-get:apt
)
# Packages unpacked into the guest without installing them on the host.
VM_GUEST_DEBS=(linux-image-amd64 ipvsadm libnl-3-200 libnl-genl-3-200 libpopt0)
# keepalived, the reference director daemon (ipvsd's differential suite), and
# the libraries of its ldd closure that a minimal Debian host may lack (the
# rest, libc and the like, come from the host as for ipvsadm).
VM_GUEST_DEBS+=(keepalived libmnl0 libnftnl11 libsnmp40 libpci3 libwrap0 libperl5.36 libsensors5
  libglib2.0-0 libssl3 libsystemd0 libpcre2-8-0 libffi8)
# keepalived and its libraries stay on the host, in VM_KEEPALIVED (the guest
# sees the target folder at the same path), so the initramfs does not grow by
# their 24 MB; the guest's /usr/sbin/keepalived is a wrapper that runs them.
VM_KEEPALIVED=$VM_DIR/keepalived
# Where prepare keeps keepalived's sample configurations (the corpus of
# ipvsd/tests/config_samples.rs, through IPVSD_KEEPALIVED_SAMPLES).
VM_KEEPALIVED_SAMPLES=$VM_DIR/keepalived-samples
# BIRD 2 (Debian's bird2), the BGP speaker of the several-directors tests: the
# routers and the directors announcing their virtual addresses. Kept on the
# host like keepalived, in VM_BIRD; the guest runs /usr/sbin/bird and birdc.
VM_GUEST_DEBS+=(bird2 libreadline8 libssh-gcrypt-4 libtinfo6 libgcrypt20 libgpg-error0)
VM_BIRD=$VM_DIR/bird

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }
