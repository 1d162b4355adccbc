package reference

import (
	"os"
	"syscall"
)

// mapFile maps f into memory read-only and returns its contents and a
// function that unmaps them, or nil if f cannot be mapped (an empty file,
// a pipe).
func mapFile(f *os.File) ([]byte, func()) {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() <= 0 || int64(int(fi.Size())) != fi.Size() {
		return nil, nil
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, nil
	}
	// The workers go through the file once, front to back.
	_ = syscall.Madvise(data, syscall.MADV_SEQUENTIAL)
	return data, func() { _ = syscall.Munmap(data) }
}
