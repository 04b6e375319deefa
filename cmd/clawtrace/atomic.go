package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// atomicWrite writes the file at path through fn. fn writes to a buffered
// temporary file in the same directory, which is synced and renamed over
// path only when fn and every write succeeded. On failure the temporary
// file is removed and path is left as it was, so a reader never sees a
// half-written output. The file gets the mode of the file it replaces, or
// 0644. A symlink is written through (its target is replaced); a path that
// is not a regular file (a device such as /dev/stdout, a FIFO) is written
// directly, since it cannot be replaced.
func atomicWrite(path string, fn func(io.Writer) error) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return writeDirect(path, fn)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	var began time.Time // on the file system's clock
	if st, err := f.Stat(); err == nil {
		began = st.ModTime()
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fn(bw); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		mode = st.Mode().Perm()
	}
	for _, step := range []func() error{bw.Flush, f.Sync, func() error { return f.Chmod(mode) }, f.Close} {
		if err := step(); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	removeStaleTemps(dir, base, began)
	return nil
}

// removeStaleTemps removes the temporary files of earlier writes of
// dir/base that were killed before they could remove them (SIGKILL, a
// crash): .base.tmp-<digits> files not written to since this write began.
// Without it every killed run would leave one for good. A write of the same
// path running concurrently that has written nothing since then loses its
// file and fails with an error; it never replaces the output with part of
// one.
func removeStaleTemps(dir, base string, began time.Time) {
	if began.IsZero() {
		return
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "."+base+".tmp-")
		if !ok || rest == "" || strings.Trim(rest, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(began) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// writeDirect writes to a path that is not a regular file (a device or a
// FIFO) in place.
func writeDirect(path string, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := fn(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
