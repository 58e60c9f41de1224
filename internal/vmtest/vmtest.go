// Package vmtest boots a qube the way the KVM driver will, but small enough
// for a test: QEMU (TCG) with a Debian kernel, a busybox initramfs built on
// the fly, and inside it Xvfb, a test X client and the static qube-agent on
// its virtio transport. The shared region is an ivshmem-plain device backed
// by a host file, and the GUI channel is the virtio-serial port "qubes.gui"
// that QEMU exposes as a unix socket on the host.
package vmtest
