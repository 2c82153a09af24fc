package rootfs

import (
	"os"
	"path/filepath"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// opener opens regular files below a directory with openat2.
type opener struct {
	dir   *os.File // the root directory, kept open for its descriptor
	dirfd int
	name  string // the root's name, for the files' names
	off   atomic.Bool
}

func newOpener(root *os.Root) *opener {
	dir, err := root.Open(".")
	if err != nil {
		return nil
	}
	return &opener{dir: dir, dirfd: int(dir.Fd()), name: root.Name()}
}

// open returns the regular file at name (slash-separated, valid for
// fs.ValidPath), or nil when the caller must use the os.Root.
func (o *opener) open(name string) *os.File {
	if o == nil || o.off.Load() {
		return nil
	}
	fd, err := unix.Openat2(o.dirfd, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if err == unix.ENOSYS || err == unix.EPERM {
			o.off.Store(true) // no openat2 here (an old kernel, a seccomp profile)
		}
		return nil
	}
	// Directories go through the os.Root, whose entries carry
	// information read through their directory's descriptor.
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), filepath.Join(o.name, filepath.FromSlash(name)))
}

func (o *opener) close() error {
	if o == nil {
		return nil
	}
	o.off.Store(true)
	return o.dir.Close()
}
