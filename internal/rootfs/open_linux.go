package rootfs

import (
	"io/fs"
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
// fs.ValidPath); an error for a file that is neither regular nor a
// directory; or neither, when the caller must use the os.Root.
func (o *opener) open(name string) (*os.File, error) {
	if o == nil || o.off.Load() {
		return nil, nil
	}
	fd, err := unix.Openat2(o.dirfd, name, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW | unix.O_NONBLOCK,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if err == unix.ENOSYS || err == unix.EPERM {
			o.off.Store(true) // no openat2 here (an old kernel, a seccomp profile)
		}
		return nil, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		// Directories go through the os.Root, whose entries carry
		// information read through their directory's descriptor.
		unix.Close(fd)
		return nil, nil
	default:
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: ErrNotRegular}
	}
	// O_NONBLOCK only kept the open from waiting on a pipe; a regular file
	// is read in blocking mode, outside the network poller.
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, nil
	}
	return os.NewFile(uintptr(fd), filepath.Join(o.name, filepath.FromSlash(name))), nil
}

func (o *opener) close() error {
	if o == nil {
		return nil
	}
	o.off.Store(true)
	return o.dir.Close()
}
