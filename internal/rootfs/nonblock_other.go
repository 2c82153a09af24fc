//go:build !unix

package rootfs

// nonBlock is unix's; elsewhere there are no named pipes in a tree.
const nonBlock = 0
